import { checkLinearizable, describeOp, type HistoryOp } from '@app/history';
import type { KeyCommand, KvCommand, KvResult } from '../kv/types';

/** The simulated clients send single-key commands only: anything else in their log is a bug of the harness. */
export function keyCommandOf(cmd: KvCommand): KeyCommand {
  if (cmd.op === 'put' || cmd.op === 'delete' || cmd.op === 'cas') return cmd;
  throw new Error(`simulation: unexpected ${cmd.op} command`);
}

/**
 * What the simulated clients saw, recorded the way the end-to-end tools record it (Jepsen style),
 * for the same linearizability checker (libs/history). Per-request checks in the drivers catch a
 * wrong answer where it happens; this catches what only the whole history shows.
 *
 * A simulated client may have several requests of one batch in flight: each request is an op of a
 * client of its own (the checker wants at most one op in flight per client).
 */
export class SimHistory {
  private readonly ops: HistoryOp[] = [];
  private readonly open = new Map<string, HistoryOp>();
  private nextClient = 0;

  /** A write is invoked (once, however many attempts it takes). */
  invokeWrite(reqId: string, cmd: KeyCommand, now: number): void {
    const op: HistoryOp = { id: this.ops.length, client: this.nextClient++, kind: cmd.op, key: cmd.key, invoke: now, complete: null, status: 'info' };
    if (cmd.op === 'put') op.value = cmd.value;
    if (cmd.op === 'cas') {
      op.value = cmd.value;
      op.expected = cmd.expected;
    }
    this.ops.push(op);
    this.open.set(reqId, op);
  }

  invokeRead(readId: string, key: string, now: number): void {
    const op: HistoryOp = { id: this.ops.length, client: this.nextClient++, kind: 'get', key, invoke: now, complete: null, status: 'info' };
    this.ops.push(op);
    this.open.set(readId, op);
  }

  /** The client got its answer (the first one counts). */
  wrote(reqId: string, result: KvResult, now: number): void {
    const op = this.close(reqId, now);
    if (op === null) return;
    if (result.op === 'conflict' || result.op === 'refused') op.status = 'fail';
    else if (result.op === 'cas') op.result = { succeeded: result.succeeded };
    else if (result.op === 'delete') op.result = { deleted: result.deleted };
  }

  read(readId: string, value: string | null, now: number): void {
    const op = this.close(readId, now);
    if (op !== null) op.result = { value };
  }

  get size(): number {
    return this.ops.length;
  }

  /** null when linearizable; else what the checker found. Reads never answered had no effect. */
  violation(): string | null {
    const history = this.ops.map((o) => (o.kind === 'get' && o.complete === null ? { ...o, status: 'fail' as const } : o));
    const r = checkLinearizable(history, { maxStatesPerKey: 200_000 });
    if (r.linearizable) return null;
    const v = r.violations[0];
    return `key ${v.key}: ${v.explanation}; ops: ${v.ops.map((o) => describeOp(o)).join(' | ')}`;
  }

  private close(id: string, now: number): HistoryOp | null {
    const op = this.open.get(id);
    if (op === undefined) return null;
    this.open.delete(id);
    op.complete = now;
    op.status = 'ok';
    return op;
  }
}
