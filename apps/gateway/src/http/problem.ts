import { STATUS_CODES } from 'node:http';

/**
 * RFC 9457 problem details: every error answer of the gateway is `application/problem+json` with
 * `type`, `title`, `status`, `detail` and `instance`, plus extension members (`field`, `limit`,
 * `requestId`, `node`, ...). `detail` carries the sentence a human reads; `type` is what a client
 * branches on, so the URIs below are stable: change a title freely, never a type.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const BASE = 'https://synod.dev/problems';

export interface ProblemType {
  type: string;
  title: string;
}

export const PROBLEMS = {
  /** 400: one field of the request is wrong; `field` names it. */
  invalidField: { type: `${BASE}/invalid-field`, title: 'A request field is invalid' },
  /** 400: the body is not JSON. */
  malformedBody: { type: `${BASE}/malformed-body`, title: 'The request body is not valid JSON' },
  /** 413: a key, value or the whole body is over its limit; `field` and `limit` (bytes) say which. */
  tooLarge: { type: `${BASE}/too-large`, title: 'Over a size limit' },
  /** 404: no such key, job or node. */
  notFound: { type: `${BASE}/not-found`, title: 'Not found' },
  /** 401: the admin bearer token is missing or wrong. */
  unauthorized: { type: `${BASE}/unauthorized`, title: 'Admin token required' },
  /** 503: nothing was applied (no leader, no quorum, queue down); retry after Retry-After. */
  unavailable: { type: `${BASE}/unavailable`, title: 'Unavailable; nothing was applied' },
  /** 504: sent, but no answer by the deadline: the outcome is unknown; retry with `requestId`. */
  outcomeUnknown: { type: `${BASE}/outcome-unknown`, title: 'Outcome unknown' },
  /** 415: a request body that is not `application/json`; `contentType` names what was sent (null: none). */
  unsupportedMediaType: { type: `${BASE}/unsupported-media-type`, title: 'The request body must be application/json' },
  /** 403: a write from a web page of another origin (its Origin is not in CORS_ORIGINS); `origin` names it. */
  crossOrigin: { type: `${BASE}/cross-origin`, title: 'Cross-origin write refused' },
  /** 403: a request to the open (tokenless) API under a Host name that is not this machine's; `host` names it. */
  hostNotAllowed: { type: `${BASE}/host-not-allowed`, title: 'Host not allowed' },
  /** 422: the Idempotency-Key was first used for another request (method, path or body); nothing was applied. */
  idempotencyKeyReused: { type: `${BASE}/idempotency-key-reused`, title: 'Idempotency-Key reused for a different request' },
  /**
   * 409: the replicas can no longer tell whether this Idempotency-Key was applied (its seq fell out
   * of its client's session window, or the session was dropped), so it is refused, never applied
   * twice; `reason` is `outside-window` or `session-expired`.
   */
  idempotencyKeyExpired: { type: `${BASE}/idempotency-key-expired`, title: 'Idempotency-Key past its session window' },
  /** 410: a read or watch from a revision whose history was compacted away; `compactRevision` is the oldest still served. */
  compacted: { type: `${BASE}/compacted`, title: 'Revision compacted' },
} as const satisfies Record<string, ProblemType>;

/**
 * For statuses without a meaning of our own: RFC 9457 §4.2.1, `about:blank` with the HTTP reason
 * phrase as the title.
 */
export function blankProblem(status: number): ProblemType {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error' };
}

/** The problem type a status gets when the thrower names none. */
export function defaultProblem(status: number): ProblemType {
  switch (status) {
    case 401:
      return PROBLEMS.unauthorized;
    case 404:
      return PROBLEMS.notFound;
    case 503:
      return PROBLEMS.unavailable;
    default:
      return blankProblem(status);
  }
}

/** The body on the wire, less `instance`, which only the request knows. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** Members an extension may not overwrite. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance']);

export function problem(kind: ProblemType, status: number, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const out: Problem = { type: kind.type, title: kind.title, status, detail };
  for (const [k, v] of Object.entries(extensions)) if (!RESERVED.has(k) && v !== undefined) out[k] = v;
  return out;
}

/** `instance`: the path of the request that failed (no query string: it may hold anything). */
export function withInstance(p: Problem, url: string | undefined): Problem & { instance?: string } {
  if (url === undefined) return p;
  const q = url.indexOf('?');
  const { type, title, status, detail, ...extensions } = p;
  return { type, title, status, detail, instance: q < 0 ? url : url.slice(0, q), ...extensions };
}
