import { errorFor, Problem, SynodUnavailableError } from './errors';
import { delay } from './delay';

export interface TransportOptions {
  /** Gateway base URLs (`http://host:port`); the client moves to the next when one fails. */
  endpoints: string[];
  /** ADMIN_TOKEN, sent as a bearer token when set (the gateway requires it for admin routes). */
  token?: string;
  /** One HTTP attempt, at most (default 10 s: above the gateway's own 5 s request deadline). */
  attemptTimeoutMs?: number;
  /** Retries stop after this long in all (default 30 s). */
  deadlineMs?: number;
}

/** Per request: what the client's settings do not say. */
export interface RequestOptions {
  /** Aborting stops the request and its retries: it throws the signal's reason (an AbortError), as fetch does. */
  signal?: AbortSignal;
  /** Retries stop after this long, instead of the client's deadlineMs (a keepalive is useless after its lease's TTL). */
  deadlineMs?: number;
  /** One attempt at most this long, instead of the client's attemptTimeoutMs (a long poll waits on the server). */
  attemptTimeoutMs?: number;
}

export interface Answer<T> {
  status: number;
  body: T;
}

const RETRY_FLOOR_MS = 50;

/**
 * HTTP to a set of gateways, with the retry rules of the REST contract:
 * - 503: nothing was applied: wait Retry-After (or a short back-off), then try again;
 * - 504: the outcome is unknown: try again with the same Idempotency-Key (the caller's), which the
 *   replicas answer with the first result if it was applied;
 * - no answer at all (connection refused, reset, timeout): the next gateway, same key;
 * - anything else is the answer: 2xx returned, 4xx/5xx thrown as SynodError (410, a compacted
 *   revision: SynodCompactedError).
 * 404 is returned too (a missing key is an answer, not an error): `accept` lists such statuses.
 */
export class Transport {
  private next = 0;
  readonly attemptTimeoutMs: number;
  readonly deadlineMs: number;

  constructor(private readonly o: TransportOptions) {
    if (o.endpoints.length === 0) throw new Error('SynodClient: at least one endpoint is needed');
    this.attemptTimeoutMs = o.attemptTimeoutMs ?? 10_000;
    this.deadlineMs = o.deadlineMs ?? 30_000;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    accept: number[] = [],
    opts: RequestOptions = {},
  ): Promise<Answer<T>> {
    const deadlineMs = opts.deadlineMs ?? this.deadlineMs;
    const deadline = Date.now() + deadlineMs;
    const signal = opts.signal;
    const attemptTimeoutMs = opts.attemptTimeoutMs ?? this.attemptTimeoutMs;
    let unknownOutcome = false;
    let lastStatus: number | null = null;
    let lastError = 'no attempt made';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      signal?.throwIfAborted();
      const base = this.o.endpoints[this.next % this.o.endpoints.length];
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: withTimeout(signal, Math.min(attemptTimeoutMs, Math.max(1, deadline - Date.now()))),
        });
      } catch (err) {
        signal?.throwIfAborted();
        // Sent or not, we cannot tell: a write's fate is unknown; the next gateway gets the same key.
        if (method !== 'GET') unknownOutcome = true;
        lastError = `${base}: ${(err as Error).message}`;
        this.next++;
        await delay(Math.min(RETRY_FLOOR_MS * 2 ** Math.min(attempt, 4), Math.max(0, deadline - Date.now())), signal);
        continue;
      }
      lastStatus = res.status;
      const parsed = await readBody(res).catch((err: unknown) => {
        signal?.throwIfAborted();
        throw err;
      });
      if (res.ok || accept.includes(res.status)) return { status: res.status, body: parsed as T };
      if (res.status === 503 || res.status === 504) {
        if (res.status === 504) unknownOutcome = true;
        lastError = `${base}: ${res.status} ${(parsed as Problem | null)?.detail ?? ''}`.trim();
        const retryAfterS = Number(res.headers.get('retry-after'));
        const wait = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : RETRY_FLOOR_MS * 2 ** Math.min(attempt, 4);
        await delay(Math.min(wait, Math.max(0, deadline - Date.now())), signal);
        continue;
      }
      throw errorFor(res.status, isProblem(parsed) ? parsed : null);
    }
    signal?.throwIfAborted();
    throw new SynodUnavailableError(`no gateway could serve ${method} ${path} within ${deadlineMs} ms (last: ${lastError})`, unknownOutcome, lastStatus);
  }
}

export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && typeof (v as Problem).status === 'number' && typeof (v as Problem).detail === 'string';
}

/** An attempt's signal: its timeout, and the caller's abort when there is one. */
function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}
