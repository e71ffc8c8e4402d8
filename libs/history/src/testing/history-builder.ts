import type { HistoryOp } from '../types';

/** Builds hand-written histories for tests: ids are assigned in call order. */
export class HistoryBuilder {
  readonly ops: HistoryOp[] = [];

  put(client: number, key: string, value: string, invoke: number, complete: number): HistoryOp {
    return this.add({ client, kind: 'put', key, value, invoke, complete, status: 'ok', result: {} });
  }

  get(client: number, key: string, value: string | null, invoke: number, complete: number): HistoryOp {
    return this.add({ client, kind: 'get', key, invoke, complete, status: 'ok', result: { value } });
  }

  delete(client: number, key: string, deleted: boolean, invoke: number, complete: number): HistoryOp {
    return this.add({ client, kind: 'delete', key, invoke, complete, status: 'ok', result: { deleted } });
  }

  cas(client: number, key: string, expected: string | null, value: string, succeeded: boolean, invoke: number, complete: number): HistoryOp {
    return this.add({ client, kind: 'cas', key, expected, value, invoke, complete, status: 'ok', result: { succeeded } });
  }

  /** Marks an op indeterminate: no completion, no result. */
  info(op: HistoryOp): HistoryOp {
    op.status = 'info';
    op.complete = null;
    delete op.result;
    return op;
  }

  /** Marks an op definitely failed. */
  fail(op: HistoryOp): HistoryOp {
    op.status = 'fail';
    delete op.result;
    return op;
  }

  private add(op: Omit<HistoryOp, 'id'>): HistoryOp {
    const full = { id: this.ops.length + 1, ...op };
    this.ops.push(full);
    return full;
  }
}
