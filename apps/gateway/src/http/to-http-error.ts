import { HttpException } from '@nestjs/common';
import { ConsensusTimeoutError, ConsensusUnavailableError } from '../consensus/errors';
import { ApiError } from './api-error';

export interface HttpError {
  status: number;
  body: { error: string } & Record<string, unknown>;
  headers: Record<string, string>;
  /** Not the client's doing: log it. */
  unexpected: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** body-parser errors carry `type`; see its README for the list. */
function fromBodyParser(err: Record<string, unknown>, bodyLimit: string): HttpError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return { status: 400, body: { error: 'malformed JSON body' }, headers: {}, unexpected: false };
    case 'entity.too.large':
      return { status: 413, body: { error: `request body is larger than ${bodyLimit}`, limit: err.limit ?? bodyLimit }, headers: {}, unexpected: false };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, body: { error: String(err.message) }, headers: {}, unexpected: false };
    case 'request.aborted':
    case 'request.size.invalid':
      return { status: 400, body: { error: String(err.message) }, headers: {}, unexpected: false };
    default:
      return null;
  }
}

/**
 * The one mapping from anything thrown on the request path to an HTTP answer. What a client can
 * provoke is a 4xx; a 5xx other than 501/502/503/504 means a gateway bug and is logged.
 */
export function toHttpError(err: unknown, bodyLimit = 'the body limit'): HttpError {
  if (err instanceof ApiError) return { status: err.status, body: err.body, headers: err.headers, unexpected: false };
  if (err instanceof ConsensusTimeoutError) {
    return {
      status: 504,
      body: {
        error: `no answer from the cluster within ${err.timeoutMs} ms: the outcome is unknown; retry with the same Idempotency-Key`,
        requestId: err.requestId,
      },
      headers: {},
      unexpected: false,
    };
  }
  if (err instanceof ConsensusUnavailableError) {
    return {
      status: 503,
      body: { error: `no leader available (${err.reason}); nothing was applied, retry later`, requestId: err.requestId },
      headers: { 'Retry-After': '1' },
      unexpected: false,
    };
  }
  if (isRecord(err)) {
    const parsed = fromBodyParser(err, bodyLimit);
    if (parsed) return parsed;
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message = typeof response === 'string' ? response : isRecord(response) && typeof response.message === 'string' ? response.message : err.message;
    return { status, body: { error: message }, headers: {}, unexpected: status >= 500 };
  }
  // http-errors style (express internals): a 4xx status we can pass on.
  if (isRecord(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return { status: err.status, body: { error: String(err.message ?? 'bad request') }, headers: {}, unexpected: false };
  }
  return { status: 500, body: { error: 'internal error' }, headers: {}, unexpected: true };
}
