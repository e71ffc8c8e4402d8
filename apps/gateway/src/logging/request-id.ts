import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** What a proxy or client may hand us as a request id: short, printable, no spaces or quotes. */
const SANE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request's id: the caller's X-Request-Id when it is sane (so one id follows a request through
 * a proxy and the gateway), else a fresh UUID; echoed as a response header either way.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SANE.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
