import { HttpException } from '@nestjs/common';
import { ConsensusTimeoutError, ConsensusUnavailableError } from '../consensus/errors';
import { ApiError } from './api-error';
import { clientRequestId } from './idempotency-key';
import { blankProblem, problem, PROBLEMS, type Problem } from './problem';

export interface HttpError {
  status: number;
  /** RFC 9457 body, less `instance` (the writer adds the request's path). */
  body: Problem;
  headers: Record<string, string>;
  /** Not the client's doing: log it. */
  unexpected: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const answer = (body: Problem, headers: Record<string, string> = {}, unexpected = false): HttpError => ({ status: body.status, body, headers, unexpected });

/** body-parser errors carry `type`; see its README for the list. */
function fromBodyParser(err: Record<string, unknown>, bodyLimit: string): HttpError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return answer(problem(PROBLEMS.malformedBody, 400, 'malformed JSON body', { field: 'body' }));
    case 'entity.too.large':
      return answer(problem(PROBLEMS.tooLarge, 413, `request body is larger than ${bodyLimit}`, { field: 'body', limit: err.limit ?? bodyLimit }));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return answer(problem(blankProblem(415), 415, String(err.message)));
    case 'request.aborted':
    case 'request.size.invalid':
      return answer(problem(blankProblem(400), 400, String(err.message)));
    default:
      return null;
  }
}

/**
 * The one mapping from anything thrown on the request path to an HTTP answer. What a client can
 * provoke is a 4xx; a 5xx other than 501/502/503/504 means a gateway bug and is logged.
 */
export function toHttpError(err: unknown, bodyLimit = 'the body limit'): HttpError {
  if (err instanceof ApiError) return answer(err.problem, err.headers);
  if (err instanceof ConsensusTimeoutError) {
    const detail = `${err.why ?? `no answer from the cluster within ${err.timeoutMs} ms`}: the outcome is unknown; retry with the same Idempotency-Key`;
    return answer(problem(PROBLEMS.outcomeUnknown, 504, detail, { requestId: clientRequestId(err.requestId) }));
  }
  if (err instanceof ConsensusUnavailableError) {
    const detail = `no leader available (${err.reason}); nothing was applied, retry later`;
    return answer(problem(PROBLEMS.unavailable, 503, detail, { requestId: clientRequestId(err.requestId), reason: err.reason }), { 'Retry-After': '1' });
  }
  if (isRecord(err)) {
    const parsed = fromBodyParser(err, bodyLimit);
    if (parsed) return parsed;
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const message = typeof response === 'string' ? response : isRecord(response) && typeof response.message === 'string' ? response.message : err.message;
    return answer(problem(blankProblem(status), status, message), {}, status >= 500);
  }
  // http-errors style (express internals): a 4xx status we can pass on.
  if (isRecord(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
    return answer(problem(blankProblem(err.status), err.status, String(err.message ?? 'bad request')));
  }
  return answer(problem(blankProblem(500), 500, 'internal error'), {}, true);
}
