import { connect, Socket } from 'node:net';
import { progressLines } from '../progress';

/**
 * A lean HTTP/1.1 load generator: raw keep-alive sockets, one request in flight per connection,
 * no per-request allocation beyond the request bytes. Node's http client costs more CPU than the
 * gateway it measures on a 2-core machine; this one stays out of the way.
 */
export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
}

export type RequestFactory = (conn: number, seq: number) => Buffer;

/** With `phase`, a progress line on stderr every 5 s: the phase, the time, the answers so far. */
export async function runLoad(port: number, connections: number, seconds: number, make: RequestFactory, phase?: string): Promise<LoadResult> {
  const res: LoadResult = { ok: 0, failed: 0, seconds, statuses: {}, latenciesMs: [] };
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  const stop = phase === undefined ? () => undefined : progressLines('bench', phase, seconds, () => `${res.ok} ok, ${res.failed} failed`);
  try {
    await Promise.all(Array.from({ length: connections }, (_, c) => connection(port, c, end, make, res)));
  } finally {
    stop();
  }
  res.seconds = (Date.now() - t0) / 1000;
  return res;
}

function connection(port: number, conn: number, end: number, make: RequestFactory, res: LoadResult): Promise<void> {
  return new Promise((resolve) => {
    const sock: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buf = Buffer.alloc(0);
    let seq = 0;
    let started = 0n;
    const send = () => {
      if (Date.now() >= end) {
        sock.end();
        return resolve();
      }
      started = process.hrtime.bigint();
      sock.write(make(conn, seq++));
    };
    sock.on('connect', send);
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      for (;;) {
        const head = buf.indexOf('\r\n\r\n');
        if (head < 0) return;
        const headers = buf.subarray(0, head).toString('latin1');
        const m = /content-length:\s*(\d+)/i.exec(headers);
        const len = m ? Number(m[1]) : 0;
        if (buf.length < head + 4 + len) return;
        buf = buf.subarray(head + 4 + len);
        const status = Number(headers.slice(9, 12));
        res.statuses[status] = (res.statuses[status] ?? 0) + 1;
        if (status === 200) {
          res.ok++;
          res.latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        } else {
          res.failed++;
        }
        send();
      }
    });
  });
}

export function putRequest(key: string, value: string): Buffer {
  const body = `{"value":${JSON.stringify(value)}}`;
  return Buffer.from(
    `PUT /v1/kv/${encodeURIComponent(key)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function getRequest(key: string, consistency = 'linearizable'): Buffer {
  return Buffer.from(`GET /v1/kv/${encodeURIComponent(key)}?consistency=${consistency} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

export function summarize(name: string, r: LoadResult): string {
  const l = r.latenciesMs.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  return `${name}: ${(r.ok / r.seconds).toFixed(0)} ok/s (${r.ok} ok, ${r.failed} failed in ${r.seconds.toFixed(1)} s) p50 ${f(percentile(l, 50))} ms, p90 ${f(percentile(l, 90))} ms, p99 ${f(percentile(l, 99))} ms`;
}
