import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, withInstance } from './problem';
import { toHttpError, type HttpError } from './to-http-error';
import { writeJson } from './write-json';

type Req = IncomingMessage & { originalUrl?: string };

/** Writes an error answer as `application/problem+json`, with the request's path as `instance`. */
export function sendProblem(req: Req, res: ServerResponse, out: HttpError): void {
  writeJson(res, out.status, withInstance(out.body, req.originalUrl ?? req.url), `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, out.headers);
}

/**
 * Anything thrown on the request path, answered: the exception filter (Nest routes) and the lean
 * KV routes both end here. Unexpected errors (gateway bugs) are logged with their stack.
 */
export function sendError(req: Req, res: ServerResponse, err: unknown, bodyLimit: string, log: { error(message: string): void }): void {
  const out = toHttpError(err, bodyLimit);
  if (out.unexpected) log.error(`${out.status}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (res.headersSent) {
    res.end();
    return;
  }
  sendProblem(req, res, out);
}
