import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the scripted server got: what the client sent, and the response to write. */
export interface Hit {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  res: ServerResponse;
  /** Resolves when the connection is gone (the client aborted, or the test destroyed it). */
  closed: Promise<void>;
}

export type Step = (hit: Hit) => void;

/**
 * A real HTTP server on a free port that answers each request with the next step of a script (or
 * `otherwise`), and records every request: for testing what the client sends and how it takes
 * each answer, streams included.
 */
export class ScriptedServer {
  url = '';
  hits: Hit[] = [];
  steps: Step[] = [];
  otherwise: Step = (hit) => json(hit, 404, problem(404));
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const closed = new Promise<void>((r) => res.once('close', () => r()));
        const hit: Hit = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, res, closed };
        this.hits.push(hit);
        (this.steps.shift() ?? this.otherwise)(hit);
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<ScriptedServer> {
    const s = new ScriptedServer();
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /**
   * Ends the streams a test left open. Idle keep-alive connections stay: the client's pool may
   * reuse one at once, before it sees it closed, and the next test would start with a failure.
   */
  reset(): void {
    for (const h of this.hits) h.res.destroy();
    this.hits = [];
    this.steps = [];
  }

  async close(): Promise<void> {
    this.reset();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  type: 'about:blank',
  title: 'x',
  status,
  detail: `it was ${status}`,
  ...extra,
});

export function json(hit: Hit, status: number, body: unknown, headers: Record<string, string> = {}): void {
  hit.res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json', ...headers });
  hit.res.end(JSON.stringify(body));
}

/** Starts an event stream (headers out at once, as a watch route does). */
export function openSse(hit: Hit): void {
  hit.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  hit.res.flushHeaders();
}

export function sendSse(hit: Hit, event: string, id: number, data: unknown): void {
  hit.res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A put event the way the server writes it. */
export const put = (hit: Hit, key: string, value: string, revision: number): void => sendSse(hit, 'put', revision, { key, value, revision });
