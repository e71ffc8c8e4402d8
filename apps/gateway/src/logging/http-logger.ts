import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';
import { redactUrl } from '@app/logging';
import { requestId } from './request-id';

type Next = (err?: unknown) => void;

/**
 * The gateway's request log: every request gets an id (X-Request-Id in, and out) and a child
 * logger that nestjs-pino binds for the handlers (so their lines carry `reqId`), and one line when
 * it ends — at debug for a success (a busy gateway answers thousands a second, and /metrics and the
 * health checks are scraped all the time), info for a client error, warn for 503/504 (answers of
 * the contract: no quorum, unready, outcome unknown), error for any other 5xx.
 *
 * Hand-written on purpose: pino-http did the same job at ~19% of the gateway's CPU under a
 * 64-connection write load (a cpuprofile of `node dist/apps/gateway/src/main.js` driven by
 * tools/bench/http-load.ts), and cost ~25% of its write throughput; this costs an id, a child
 * logger and, for a line below the level, nothing else.
 */
export function httpLogger(root: Logger): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    const id = requestId(req, res);
    const started = performance.now();
    (req as IncomingMessage & { id?: string; log?: Logger }).id = id;
    (req as IncomingMessage & { log?: Logger }).log = root.child({ reqId: id });
    res.once('finish', () => {
      const level = levelFor(res.statusCode);
      if (!root.isLevelEnabled(level)) return;
      const ms = Math.round(performance.now() - started);
      const url = redactUrl(urlOf(req));
      root[level](
        { req: { id, method: req.method, url }, res: { statusCode: res.statusCode }, responseTime: ms },
        `${req.method} ${url} ${res.statusCode} ${ms}ms`,
      );
    });
    next();
  };
}

function levelFor(status: number): Level {
  if (status === 503 || status === 504) return 'warn';
  if (status >= 500) return 'error';
  return status >= 400 ? 'info' : 'debug';
}

/** Express rewrites req.url inside mounted routers; originalUrl is what the client asked for. */
function urlOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}
