import { performance } from 'node:perf_hooks';
import type { HistoryOp, OpKind } from '@app/history';

/** One HTTP attempt of an operation: when it was answered and how. */
export interface Attempt {
  at: number;
  status: number;
  /** Why it was not a 200: the client's error, or the gateway's error message. */
  error?: string;
}

/** A history entry plus what the checker does not need but a reader of history.json does. */
export interface RecordedOp extends HistoryOp {
  attempts: Attempt[];
  consistency?: 'linearizable' | 'stale';
  phase: 'workload' | 'durability' | 'final-read';
}

/** A status the contract does not allow for this request: a bug, reported and failing the run. */
export interface UnexpectedStatus {
  op: number;
  kind: OpKind;
  key: string;
  status: number;
  body: unknown;
  at: number;
}

/**
 * The Jepsen-style history: every operation with its invocation and completion time (ms since
 * the run began, one monotonic clock), its arguments and its result.
 */
export class Recorder {
  readonly ops: RecordedOp[] = [];
  readonly unexpected: UnexpectedStatus[] = [];
  private readonly t0 = performance.now();

  now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  invoke(client: number, phase: RecordedOp['phase'], kind: OpKind, key: string, args: { value?: string; expected?: string | null } = {}): RecordedOp {
    const op: RecordedOp = { id: this.ops.length, client, kind, key, invoke: this.now(), complete: null, status: 'info', attempts: [], phase };
    if (args.value !== undefined) op.value = args.value;
    if (args.expected !== undefined) op.expected = args.expected;
    this.ops.push(op);
    return op;
  }

  counts(): { total: number; ok: number; fail: number; info: number } {
    const c = { total: this.ops.length, ok: 0, fail: 0, info: 0 };
    for (const op of this.ops) c[op.status]++;
    return c;
  }
}
