import { request, Reply } from './http';
import type { Recorder, RecordedOp } from './recorder';

export interface KvClientOptions {
  base: string;
  recorder: Recorder;
  /** Per-request client timeout (above the gateway's deadline, so the gateway answers first). */
  timeoutMs: number;
  /** An indeterminate write is retried with its Idempotency-Key for this long after its invocation. */
  retryBudgetMs: number;
  /** Makes Idempotency-Keys unique to this run. */
  runId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Executes one recorded operation and fills in its outcome.
 *
 * 200 (and a GET's 404) → ok. 503 → fail: the gateway promises nothing was applied. 504, a client
 * timeout or a dropped connection → indeterminate; a write is then retried with the same
 * Idempotency-Key (the contract: one effect, the first answer) until it is answered or its budget
 * runs out, so most indeterminate writes settle as ok, and exactly-once is exercised on the way.
 * A 503 after an indeterminate attempt does not settle the first attempt's fate: it stays open.
 * Any other status is a bug: recorded as unexpected, and the op stays indeterminate.
 */
export async function execute(op: RecordedOp, o: KvClientOptions): Promise<RecordedOp> {
  const write = op.kind !== 'get';
  const headers = write ? { 'idempotency-key': `${o.runId}-${op.id}` } : undefined;
  let indeterminate = false;
  for (let attempt = 0; ; attempt++) {
    const reply = await send(op, o, headers);
    const at = o.recorder.now();
    op.attempts.push(
      reply.error
        ? { at, status: 0, error: reply.error }
        : reply.status === 200
          ? { at, status: 200 }
          : { at, status: reply.status, error: errorText(reply.body) },
    );
    const outcome = classify(op, reply);
    if (outcome === 'ok') {
      op.status = 'ok';
      op.complete = at;
      op.result = resultOf(op, reply);
      return op;
    }
    if (outcome === 'unavailable' && !indeterminate) {
      op.status = 'fail';
      op.complete = at;
      return op;
    }
    if (outcome === 'unexpected') {
      o.recorder.unexpected.push({ op: op.id, kind: op.kind, key: op.key, status: reply.status, body: reply.body, at });
      op.status = 'info';
      return op;
    }
    if (outcome === 'unknown') indeterminate = true;
    // A read has no effect: an unanswered one is simply indeterminate (the checker drops it).
    if (!write || at - op.invoke > o.retryBudgetMs) {
      op.status = 'info';
      return op;
    }
    await sleep(100 + 50 * Math.min(attempt, 8));
  }
}

/** The gateway's problem details say it in `detail` (RFC 9457). */
function errorText(body: unknown): string {
  const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : undefined;
  return String(typeof detail === 'string' ? detail : JSON.stringify(body)).slice(0, 200);
}

function send(op: RecordedOp, o: KvClientOptions, headers?: Record<string, string>): Promise<Reply> {
  const path = `/v1/kv/${encodeURIComponent(op.key)}`;
  const t = { timeoutMs: o.timeoutMs, headers };
  switch (op.kind) {
    case 'get':
      return request(o.base, 'GET', `${path}?consistency=${op.consistency ?? 'linearizable'}`, t);
    case 'put':
      return request(o.base, 'PUT', path, { ...t, body: { value: op.value } });
    case 'delete':
      return request(o.base, 'DELETE', path, t);
    case 'cas':
      return request(o.base, 'POST', `${path}/cas`, { ...t, body: { expected: op.expected ?? null, value: op.value } });
  }
}

type Outcome = 'ok' | 'unavailable' | 'unknown' | 'unexpected';

function classify(op: RecordedOp, r: Reply): Outcome {
  if (r.status === 0 || r.status === 504) return 'unknown';
  if (r.status === 503) return 'unavailable';
  if (r.status === 200) return wellFormed(op, r.body) ? 'ok' : 'unexpected';
  if (r.status === 404 && op.kind === 'get') return 'ok';
  return 'unexpected';
}

/** A 200 whose body lacks the result is as much a bug as a 500. */
function wellFormed(op: RecordedOp, body: any): boolean {
  if (typeof body !== 'object' || body === null) return false;
  switch (op.kind) {
    case 'get':
      return typeof body.value === 'string';
    case 'put':
      // A retry answers with the first result of the same request: the same value.
      return body.value === op.value;
    case 'delete':
      return typeof body.deleted === 'boolean';
    case 'cas':
      return typeof body.succeeded === 'boolean';
  }
}

function resultOf(op: RecordedOp, r: Reply): RecordedOp['result'] {
  switch (op.kind) {
    case 'get':
      return { value: r.status === 404 ? null : (r.body.value as string) };
    case 'put':
      return {};
    case 'delete':
      return { deleted: r.body.deleted as boolean };
    case 'cas':
      return { succeeded: r.body.succeeded as boolean };
  }
}
