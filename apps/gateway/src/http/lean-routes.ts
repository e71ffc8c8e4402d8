import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { carriesBody } from './json-only';

/**
 * Lean routes: the few hot routes answered on Node's HTTP server before Express and Nest see the
 * request. Under a 64-connection write load Express's router, Nest's route context and
 * body-parser took ~21% of the gateway's CPU and the rest of Express's request/response
 * machinery more (a cpuprofile of the gateway under `npm run bench`, docs/results.md); a lean
 * route does the same checks in a few calls and hands the request to the very controller method
 * Nest would have called, so there is still one way in and one description (zod, OpenAPI).
 *
 * A lean route takes only the plain, common form of its request and gives back false for
 * anything else (another spelling of the path, an Origin header, a body that is not plain UTF-8
 * JSON, ...): Express then answers it as before, with every middleware. kv.fast-path.http.spec.ts
 * sends each request through both and compares the answers.
 */
export type LeanRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Puts `route` in front of the Nest app's request handler on its HTTP server. */
export function installLeanRoute(server: Server, route: LeanRoute): void {
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  // Nest's Express adapter creates the server with the Express app as its one request listener.
  if (handlers.length !== 1) throw new Error(`lean routes: expected one request listener on the HTTP server, found ${handlers.length}`);
  const [nest] = handlers;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!route(req, res)) nest(req, res);
  });
}

const PLAIN_JSON = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/**
 * Whether the body (if any) is one a lean route reads itself: `application/json`, UTF-8, not
 * compressed. Anything else goes to Express's body parser, which answers 415 or decodes it.
 */
export function plainJsonBody(req: IncomingMessage): boolean {
  if (!carriesBody(req)) return true;
  const type = req.headers['content-type'];
  return type !== undefined && PLAIN_JSON.test(type) && req.headers['content-encoding'] === undefined;
}

/**
 * The JSON body of a request that passed plainJsonBody, at most `limitBytes`; `{}` when it has
 * none, as Express's body parser leaves it. Failures are body-parser's errors (`type`
 * entity.too.large, entity.parse.failed, request.aborted), so toHttpError answers them as it
 * answers Express's.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!carriesBody(req)) return Promise.resolve({});
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        done();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      // body-parser decodes with iconv-lite, which drops a byte order mark.
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)).toString('utf8').replace(/^\uFEFF/, '');
      if (text.length === 0) {
        resolve({}); // body-parser's answer for an empty JSON body
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(Object.assign(new Error('malformed JSON body'), { type: 'entity.parse.failed', status: 400 }));
      }
    };
    const onAborted = (): void => {
      done();
      reject(Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 }));
    };
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
  });
}

function tooLarge(limitBytes: number): Error {
  return Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit: limitBytes });
}
