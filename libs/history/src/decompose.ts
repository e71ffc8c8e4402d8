import { NO, RegOp, UNSEEN, ValueTable, YES } from './register';
import type { HistoryOp } from './types';

/**
 * Per-key decomposition: a KV store is a set of independent registers, and linearizability
 * is local (Herlihy & Wing), so each key is checked on its own.
 * 'fail' ops never took effect and are dropped; so are indeterminate gets, which neither
 * changed the register nor observed it.
 */
export function byKey(history: readonly HistoryOp[], values: ValueTable): Map<string, RegOp[]> {
  const keys = new Map<string, RegOp[]>();
  for (const op of history) {
    const reg = toRegOp(op, values);
    if (!reg) continue;
    let ops = keys.get(op.key);
    if (!ops) keys.set(op.key, (ops = []));
    ops.push(reg);
  }
  for (const ops of keys.values()) ops.sort((a, b) => a.invoke - b.invoke || a.src.id - b.src.id);
  return keys;
}

function toRegOp(op: HistoryOp, values: ValueTable): RegOp | undefined {
  if (op.status === 'fail') return undefined;
  const optional = op.status === 'info';
  if (optional && op.kind === 'get') return undefined;
  const reg: RegOp = {
    src: op,
    kind: op.kind,
    arg: 0,
    expected: 0,
    obs: UNSEEN,
    invoke: op.invoke,
    // An indeterminate op may still take effect after the client gave up on it.
    complete: optional || op.complete === null ? Infinity : Math.max(op.complete, op.invoke),
    optional,
  };
  const result = op.result;
  switch (op.kind) {
    case 'put':
      reg.arg = values.id(op.value);
      break;
    case 'get':
      // A 404 is recorded as null; a missing value is read the same way.
      reg.obs = values.id(result?.value);
      break;
    case 'delete':
      if (!optional && result?.deleted !== undefined) reg.obs = result.deleted ? YES : NO;
      break;
    case 'cas':
      reg.arg = values.id(op.value);
      reg.expected = values.id(op.expected);
      if (!optional && result?.succeeded !== undefined) reg.obs = result.succeeded ? YES : NO;
      break;
  }
  return reg;
}
