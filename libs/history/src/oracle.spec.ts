import { byKey } from './decompose';
import { checkLinearizable } from './index';
import { UNKNOWN, ValueTable } from './register';
import { searchRegister } from './search';
import { smallestWindow } from './shrink';
import { bruteForceLinearizable } from './testing/brute-force';
import { referenceLinearizable } from './testing/reference-checker';
import type { HistoryOp } from './types';

/**
 * Random small histories, each either produced by a real register (then possibly with one
 * result flipped) so both verdicts are common, checked against independent oracles.
 */
function randomHistory(seed: number, maxOps: number): HistoryOp[] {
  let a = seed >>> 0 || 1;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const n = 2 + Math.floor(rand() * (maxOps - 1));
  const free = [0, 0, 0, 0];
  const history: HistoryOp[] = [];
  const effects: Array<[number, HistoryOp]> = [];
  for (let id = 1; id <= n; id++) {
    const client = Math.floor(rand() * free.length);
    const invoke = free[client] + Math.floor(rand() * 3);
    const complete = invoke + Math.floor(rand() * 5);
    free[client] = complete + Math.floor(rand() * 2);
    const kind = pick(['get', 'get', 'get', 'put', 'put', 'delete', 'cas', 'cas'] as const);
    const status = pick(['ok', 'ok', 'ok', 'ok', 'info', 'info', 'fail'] as const);
    const op: HistoryOp = { id, client, kind, key: rand() < 0.85 ? 'x' : 'y', invoke, complete: status === 'info' ? null : complete, status };
    if (kind === 'put' || kind === 'cas') op.value = pick(['a', 'b', 'c', `u${id}`]);
    if (kind === 'cas') op.expected = pick([null, 'a', 'b']);
    history.push(op);
    if (status === 'ok') effects.push([invoke + rand() * (complete - invoke), op]);
    if (status === 'info' && rand() < 0.6) effects.push([invoke + rand() * 10, op]);
  }
  effects.sort((x, y) => x[0] - y[0]);
  const store = new Map<string, string | null>();
  for (const [, op] of effects) {
    const current = store.get(op.key) ?? null;
    if (op.kind === 'get') op.result = { value: current };
    if (op.kind === 'put') {
      store.set(op.key, op.value!);
      op.result = {};
    }
    if (op.kind === 'delete') {
      store.set(op.key, null);
      op.result = rand() < 0.8 ? { deleted: current !== null } : {};
    }
    if (op.kind === 'cas') {
      const succeeded = current === op.expected;
      if (succeeded) store.set(op.key, op.value!);
      op.result = rand() < 0.9 ? { succeeded } : {};
    }
    if (op.status !== 'ok') delete op.result;
  }
  const observed = history.filter((o) => o.status === 'ok' && o.kind !== 'put');
  if (rand() < 0.5 && observed.length > 0) {
    const o = pick(observed);
    if (o.kind === 'get') o.result = { value: pick([null, 'a', 'b', 'c']) };
    else if (o.kind === 'cas') o.result = { succeeded: !o.result?.succeeded };
    else o.result = { deleted: !o.result?.deleted };
  }
  return history;
}

/** Every shrunk window must fail on its own, whatever concrete value an UNKNOWN start stands for. */
function expectWindowsFail(history: HistoryOp[]) {
  const values = new ValueTable();
  for (const [key, ops] of byKey(history, values)) {
    const search = searchRegister(ops, 0, 1e6);
    if (search.verdict !== 'violation') continue;
    const window = smallestWindow(ops, 0, search.stuckAt, { maxStates: 1e6, totalStates: 4e6, maxTrials: 64 });
    const asHistory = window.ops.map((o) => (o.optional ? { ...o.src, status: 'info' as const, complete: null, result: undefined } : o.src));
    const starts = window.initial === UNKNOWN ? [null, 'a', 'b', 'c', 'fresh', ...asHistory.map((o) => o.value ?? null)] : [null];
    for (const start of starts) expect(bruteForceLinearizable(asHistory, new Map([[key, start]]))).toBe(false);
  }
}

describe('checkLinearizable agrees with independent oracles', () => {
  it('matches brute force on 3000 small histories, and its windows fail on their own', () => {
    let violations = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const history = randomHistory(seed, 12);
      const expected = bruteForceLinearizable(history);
      const r = checkLinearizable(history);
      if (r.linearizable !== expected) throw new Error(`seed ${seed}: checker says ${r.linearizable}, brute force ${expected}`);
      if (!expected) {
        violations++;
        expectWindowsFail(history);
      }
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    expect(violations).toBeGreaterThan(500);
    expect(violations).toBeLessThan(2500);
  });

  it('matches a plain Wing & Gong search on 150 mid-sized histories', () => {
    let violations = 0;
    for (let seed = 10_001; seed <= 10_150; seed++) {
      const history = randomHistory(seed, 40);
      const expected = referenceLinearizable(history);
      if (checkLinearizable(history).linearizable !== expected) throw new Error(`seed ${seed}: disagreement`);
      if (!expected) violations++;
    }
    expect(violations).toBeGreaterThan(20);
  });
});
