import type { HistoryOp } from '../types';

/**
 * The definition of linearizability, checked by trying every order: an independent oracle
 * for small histories (a dozen ops at most). The whole KV map is one object here, with no
 * per-key decomposition, no memo and no reductions. Indeterminate and never-returned ops
 * never precede anything in real time; indeterminate ones may be left out.
 */
export function bruteForceLinearizable(history: readonly HistoryOp[], initial = new Map<string, string | null>()): boolean {
  const ops = history.filter((o) => o.status !== 'fail' && !(o.status === 'info' && o.kind === 'get'));
  const ends = ops.map((o) => (o.status === 'ok' && o.complete !== null ? o.complete : Infinity));
  const mustPlace = ops.filter((o) => o.status === 'ok').length;
  const placed = new Array<boolean>(ops.length).fill(false);

  const search = (store: Map<string, string | null>, done: number): boolean => {
    if (done === mustPlace) return true;
    for (let x = 0; x < ops.length; x++) {
      if (placed[x]) continue;
      // x may go next only if every op that returned before x was invoked is already placed.
      if (ops.some((y, i) => !placed[i] && ends[i] < ops[x].invoke)) continue;
      const after = apply(store, ops[x]);
      if (!after) continue;
      placed[x] = true;
      if (search(after, done + (ops[x].status === 'ok' ? 1 : 0))) return true;
      placed[x] = false;
    }
    return false;
  };
  return search(new Map(initial), 0);
}

/** The KV map after op, or undefined if op's recorded result contradicts it. */
function apply(store: Map<string, string | null>, op: HistoryOp): Map<string, string | null> | undefined {
  const current = store.get(op.key) ?? null;
  const known = op.status === 'ok';
  const next = new Map(store);
  switch (op.kind) {
    case 'get':
      return (op.result?.value ?? null) === current ? store : undefined;
    case 'put':
      next.set(op.key, op.value ?? null);
      return next;
    case 'delete':
      if (known && op.result?.deleted !== undefined && op.result.deleted !== (current !== null)) return undefined;
      next.set(op.key, null);
      return next;
    case 'cas': {
      const matches = current === (op.expected ?? null);
      if (known && op.result?.succeeded !== undefined && op.result.succeeded !== matches) return undefined;
      if (matches) next.set(op.key, op.value ?? null);
      return next;
    }
  }
}
