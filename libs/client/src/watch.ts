import type { JsonValue } from './client';
import { errorFor, SynodCompactedError, SynodError, SynodUnavailableError } from './errors';
import { SseParser, type SseEvent } from './sse';
import { isProblem, readBody } from './transport';
import { WatchCursor } from './watch-cursor';
import { delay } from './delay';

/** What to watch: every key under a prefix, or one key. */
export type WatchTarget = { prefix: string } | { key: string };

/** One change, as GET /v1/watch reports it. A transaction's changes share one revision. */
export interface WatchEvent<V extends JsonValue = string> {
  type: 'put' | 'delete';
  key: string;
  /** null for a delete */
  value: V | null;
  revision: number;
  /** The value before the change, when the server sends it. */
  prevValue?: V | null;
}

export interface WatchOptions {
  /** The first revision to deliver. Default: the changes after the revision current when the watch starts. */
  fromRevision?: number;
  /** Aborting ends the iteration: it throws the signal's reason (an AbortError), as fetch does. */
  signal?: AbortSignal;
  /** On each progress report: every change up to `revision` has been delivered (or was not watched). */
  onProgress?: (revision: number) => void;
  /** Give up (SynodUnavailableError) after this long with no gateway serving the watch; default the client's deadlineMs; Infinity: never. */
  deadlineMs?: number;
  /** A stream silent this long is taken for dead and reopened (default 15 s: the server reports progress every 5 s at least). */
  idleTimeoutMs?: number;
}

/** The client's settings a watch uses. */
export interface WatchSettings {
  endpoints: string[];
  token?: string;
  /** For the connection's answer (the stream's headers), as for any request. */
  attemptTimeoutMs: number;
  deadlineMs: number;
}

const BACKOFF_FLOOR_MS = 50;
const BACKOFF_CEILING_MS = 2_000;

/** A gateway that could not serve the watch now; another (or the same, later) may. */
class Retryable extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/**
 * GET /v1/watch as an async iterator of changes that survives gateways: on any error or end of a
 * stream it reconnects, to the next endpoint, with back-off, resuming with `Last-Event-ID` where
 * the cursor says (watch-cursor.ts), so that nothing is skipped or repeated. It ends with
 * SynodCompactedError when the history it needs is compacted, SynodError on another answer that
 * retrying cannot change (4xx), SynodUnavailableError after `deadlineMs` without a gateway.
 * `return()` — a `break` out of `for await` — closes the stream even while a `next()` waits.
 */
export function watch(settings: WatchSettings, target: WatchTarget, opts: WatchOptions = {}): AsyncIterableIterator<WatchEvent<JsonValue>> {
  const query = targetQuery(target);
  const stop = new AbortController();
  const gen = run(settings, query, opts, stop.signal);
  return {
    next: () => gen.next(),
    // Aborting first makes a pending next() end (done) instead of waiting for an event to come.
    return: (value?: unknown) => {
      stop.abort();
      return gen.return(value as undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* run(
  s: WatchSettings,
  query: URLSearchParams,
  opts: WatchOptions,
  stop: AbortSignal,
): AsyncGenerator<WatchEvent<JsonValue>, undefined, undefined> {
  const cursor = new WatchCursor();
  const deadlineMs = opts.deadlineMs ?? s.deadlineMs;
  const health = { at: Date.now(), failures: 0 };
  let lastError: string;
  let lastStatus: number | null = null;
  for (let endpoint = 0; ; endpoint++) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (stop.aborted) return;
    const base = s.endpoints[endpoint % s.endpoints.length];
    const conn = new AbortController();
    const abort = (): void => conn.abort();
    stop.addEventListener('abort', abort);
    opts.signal?.addEventListener('abort', abort);
    let retryAfterMs = 0;
    try {
      cursor.reconnected();
      yield* stream(s, base, query, opts, cursor, conn, health);
      lastError = `${base}: the stream ended`;
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (stop.aborted) return;
      if (err instanceof SynodError) throw err; // 4xx, 410, compacted: the answer
      lastStatus = err instanceof Retryable ? err.status : null;
      retryAfterMs = err instanceof Retryable ? err.retryAfterMs : 0;
      lastError = `${base}: ${(err as Error).message}`;
    } finally {
      stop.removeEventListener('abort', abort);
      opts.signal?.removeEventListener('abort', abort);
      conn.abort();
    }
    if (Date.now() - health.at > deadlineMs) {
      throw new SynodUnavailableError(`no gateway could serve the watch for ${deadlineMs} ms (last: ${lastError})`, false, lastStatus);
    }
    const backoff = Math.min(BACKOFF_CEILING_MS, BACKOFF_FLOOR_MS * 2 ** health.failures++);
    await delay(Math.max(backoff, retryAfterMs), stop, opts.signal);
  }
}

/** One connection: yields its new events, returns when the server ends the stream, throws on failure. */
async function* stream(
  s: WatchSettings,
  base: string,
  query: URLSearchParams,
  opts: WatchOptions,
  cursor: WatchCursor,
  conn: AbortController,
  health: { at: number; failures: number },
): AsyncGenerator<WatchEvent<JsonValue>, void, undefined> {
  const watchdog = new Watchdog(conn);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(s.token ? { authorization: `Bearer ${s.token}` } : {}) };
  try {
    if (cursor.resumeAfter === undefined && opts.fromRevision === undefined) {
      // "From now" is pinned to a revision before the stream opens, so that a reconnect before the
      // first event or progress still resumes from there instead of from a later "now".
      cursor.progress(await currentRevision(base, query, headers, conn.signal, watchdog, s.attemptTimeoutMs));
    }
    // Where the stream starts: after the cursor once it has a place, else the caller's fromRevision.
    const q = new URLSearchParams(query);
    if (cursor.resumeAfter !== undefined) headers['last-event-id'] = String(cursor.resumeAfter);
    else q.set('fromRevision', String(opts.fromRevision));
    watchdog.arm(s.attemptTimeoutMs, 'no answer');
    const res = await fetch(`${base}/v1/watch?${q}`, { headers, signal: conn.signal });
    await failUnlessOk(res, base);
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) throw new Retryable(`${base}: 200 but not text/event-stream`, res.status);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const idleMs = opts.idleTimeoutMs ?? 15_000;
    try {
      for (;;) {
        // Only the wait for the network counts as idle, not the time the loop spends on an event.
        watchdog.arm(idleMs, `nothing for ${idleMs} ms`);
        const { done, value } = await reader.read();
        watchdog.clear();
        if (done) return;
        health.at = Date.now();
        for (const e of parser.feed(decoder.decode(value, { stream: true }))) {
          const item = handle(e, cursor);
          if (item === null) continue;
          health.failures = 0; // back-off starts over after a stream that brought something
          if (typeof item === 'number') opts.onProgress?.(item);
          else yield item;
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  } finally {
    watchdog.clear();
  }
}

/** What an SSE event brings: a new change, a progress revision to report, or nothing; throws on `compacted`. */
function handle(e: SseEvent, cursor: WatchCursor): WatchEvent<JsonValue> | number | null {
  switch (e.event) {
    case 'put':
    case 'delete': {
      const d = JSON.parse(e.data) as { key: string; value?: JsonValue | null; revision?: unknown; prevValue?: JsonValue | null };
      const revision = revisionOf(d.revision, e);
      if (typeof d.key !== 'string') throw new Retryable(`a ${e.event} event without a key`);
      if (!cursor.accept(revision, d.key)) return null;
      return { type: e.event, key: d.key, value: d.value ?? null, revision, ...('prevValue' in d ? { prevValue: d.prevValue } : {}) };
    }
    case 'progress': {
      cursor.progress(revisionOf((JSON.parse(e.data) as { revision?: unknown }).revision, e));
      return cursor.resumeAfter!;
    }
    case 'compacted':
      throw new SynodCompactedError(Number((JSON.parse(e.data) as { compactRevision?: number }).compactRevision ?? NaN));
    default:
      return null; // an event type of a later server
  }
}

/** The revision of an event: its data's, else its SSE id's (the contract has both). */
function revisionOf(fromData: unknown, e: SseEvent): number {
  const r = typeof fromData === 'number' ? fromData : e.id === '' ? NaN : Number(e.id);
  // Reconnecting is the one answer to a garbled stream; a wrong number would skip or repeat.
  if (!Number.isSafeInteger(r)) throw new Retryable(`a ${e.event} event without a revision`);
  return r;
}

/** The store revision now (a page of one key reads it), for a watch "from now". */
async function currentRevision(
  base: string,
  query: URLSearchParams,
  headers: Record<string, string>,
  signal: AbortSignal,
  watchdog: Watchdog,
  timeoutMs: number,
): Promise<number> {
  const q = new URLSearchParams({ prefix: query.get('prefix') ?? query.get('key') ?? '', limit: '1' });
  watchdog.arm(timeoutMs, 'no answer');
  const res = await fetch(`${base}/v1/kv?${q}`, { headers: headers.authorization ? { authorization: headers.authorization } : {}, signal });
  await failUnlessOk(res, base);
  const body = (await res.json()) as { revision?: unknown };
  watchdog.clear();
  if (typeof body.revision !== 'number') throw new Retryable(`${base}: GET /v1/kv gave no revision`, res.status);
  return body.revision;
}

/** 5xx (and 503's Retry-After): another try; any other non-2xx: the answer, thrown. */
async function failUnlessOk(res: Response, base: string): Promise<void> {
  if (res.ok) return;
  const body = await readBody(res);
  const problem = isProblem(body) ? body : null;
  if (res.status >= 500) {
    const retryAfterS = Number(res.headers.get('retry-after'));
    throw new Retryable(
      `${base}: ${res.status} ${problem?.detail ?? ''}`.trim(),
      res.status,
      Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : 0,
    );
  }
  throw errorFor(res.status, problem);
}

function targetQuery(target: WatchTarget): URLSearchParams {
  const prefix = (target as { prefix?: unknown }).prefix;
  const key = (target as { key?: unknown }).key;
  if ((prefix === undefined) === (key === undefined)) throw new TypeError('watch takes { prefix } or { key }, one of them');
  const value = prefix ?? key;
  if (typeof value !== 'string') throw new TypeError('watch: the prefix or key must be a string');
  return new URLSearchParams(prefix !== undefined ? { prefix: value } : { key: value });
}

/** Aborts the connection when a wait (for an answer, for data) lasts too long. */
class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly conn: AbortController) {}

  arm(ms: number, why: string): void {
    this.clear();
    if (Number.isFinite(ms)) this.timer = setTimeout(() => this.conn.abort(new Retryable(why)), ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
