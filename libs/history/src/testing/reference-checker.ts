import type { HistoryOp } from '../types';

/**
 * A second, deliberately plain checker for mid-sized histories (tens of ops per key): one
 * register per key, recursive Wing & Gong search over all ops with an exact memo of
 * (placed set, state) and none of the reductions of the real checker.
 */
export function referenceLinearizable(history: readonly HistoryOp[], initial = new Map<string, string | null>()): boolean {
  const keys = new Map<string, HistoryOp[]>();
  for (const op of history) {
    if (op.status === 'fail' || (op.status === 'info' && op.kind === 'get')) continue;
    keys.set(op.key, [...(keys.get(op.key) ?? []), op]);
  }
  for (const [key, ops] of keys) if (!register(ops, initial.get(key) ?? null)) return false;
  return true;
}

function register(ops: HistoryOp[], initial: string | null): boolean {
  const end = (o: HistoryOp) => (o.status === 'ok' && o.complete !== null ? o.complete : Infinity);
  const must = ops.filter((o) => o.status === 'ok').length;
  const placed = new Array<boolean>(ops.length).fill(false);
  const failed = new Set<string>();

  const search = (state: string | null, done: number): boolean => {
    if (done === must) return true;
    const memoKey = placed.map((b) => (b ? '1' : '0')).join('') + '|' + JSON.stringify(state);
    if (failed.has(memoKey)) return false;
    for (let x = 0; x < ops.length; x++) {
      if (placed[x]) continue;
      if (ops.some((y, i) => !placed[i] && end(y) < ops[x].invoke)) continue;
      const after = apply(state, ops[x]);
      if (after === undefined) continue;
      placed[x] = true;
      const ok = search(after, done + (ops[x].status === 'ok' ? 1 : 0));
      placed[x] = false;
      if (ok) return true;
    }
    failed.add(memoKey);
    return false;
  };
  return search(initial, 0);
}

function apply(state: string | null, op: HistoryOp): string | null | undefined {
  const known = op.status === 'ok';
  switch (op.kind) {
    case 'get':
      return (op.result?.value ?? null) === state ? state : undefined;
    case 'put':
      return op.value ?? null;
    case 'delete':
      if (known && op.result?.deleted !== undefined && op.result.deleted !== (state !== null)) return undefined;
      return null;
    case 'cas': {
      const matches = state === (op.expected ?? null);
      if (known && op.result?.succeeded !== undefined && op.result.succeeded !== matches) return undefined;
      return matches ? (op.value ?? null) : state;
    }
  }
}
