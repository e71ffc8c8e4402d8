import type { KvWriter } from './state-machine';
import type { KvItem, TxnCommand, TxnCompare, TxnOpResult } from './types';

/**
 * Runs a transaction at one revision (etcd's Txn): the compares read the state before it; the ops
 * of the chosen branch run in order, each seeing the ones before it.
 */
export function runTxn(cmd: TxnCommand, w: KvWriter, revision: number): { succeeded: boolean; results: TxnOpResult[] } | { missingLease: string } {
  const succeeded = cmd.compare.every((c) => holds(c, w.get(c.key)));
  const branch = succeeded ? cmd.success : cmd.failure;
  // A put naming a missing lease fails the whole transaction before anything is written.
  for (const op of branch) if (op.op === 'put' && op.lease !== undefined && !w.hasLease(op.lease)) return { missingLease: op.lease };
  const results: TxnOpResult[] = [];
  for (const op of branch) {
    switch (op.op) {
      case 'put':
        w.put(op.key, op.value, op.lease);
        results.push({ op: 'put', key: op.key, revision });
        break;
      case 'delete':
        results.push({ op: 'delete', key: op.key, deleted: w.delete(op.key), revision });
        break;
      case 'get':
        results.push({ op: 'get', key: op.key, item: w.get(op.key) });
        break;
      case 'range':
        results.push({ op: 'range', prefix: op.prefix, items: w.list(op.prefix, op.limit) });
        break;
    }
  }
  return { succeeded, results };
}

/** A missing key has value null and 0 for every revision and its version (etcd's rule). */
function holds(c: TxnCompare, item: KvItem | null): boolean {
  const actual = c.target === 'value' ? (item?.value ?? null) : (item?.[c.target] ?? 0);
  const expected = c.value;
  switch (c.op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    // Ordering needs two values of one type: null is below every string (absent < present).
    case '<':
      return order(actual, expected) < 0;
    case '>':
      return order(actual, expected) > 0;
  }
}

function order(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
