import { checkLinearizable } from './index';
import { HistoryBuilder } from './testing/history-builder';
import type { CheckResult, HistoryOp } from './types';

/** Asserts a single violation on key that includes every one of the given ops. */
function expectViolation(result: CheckResult, key: string, ...offending: HistoryOp[]) {
  expect(result.linearizable).toBe(false);
  expect(result.incomplete).toBe(false);
  expect(result.violations.map((v) => v.key)).toEqual([key]);
  const ids = result.violations[0].ops.map((o) => o.id);
  for (const op of offending) expect(ids).toContain(op.id);
  expect(result.violations[0].explanation).toContain(`"${key}"`);
}

describe('checkLinearizable: linearizable histories pass', () => {
  it('accepts a sequential history of every kind of op', () => {
    const h = new HistoryBuilder();
    h.get(1, 'x', null, 0, 1);
    h.put(1, 'x', 'a', 2, 3);
    h.get(2, 'x', 'a', 4, 5);
    h.cas(1, 'x', 'a', 'b', true, 6, 7);
    h.cas(2, 'x', 'a', 'c', false, 8, 9);
    h.get(2, 'x', 'b', 10, 11);
    h.delete(1, 'x', true, 12, 13);
    h.delete(2, 'x', false, 14, 15);
    h.cas(1, 'x', null, 'd', true, 16, 17);
    h.get(2, 'x', 'd', 18, 19);
    const r = checkLinearizable(h.ops);
    expect(r).toMatchObject({ linearizable: true, keys: 1, ops: 10, violations: [], incomplete: false });
  });

  it.each(['a', 'b'])('accepts concurrent writes read in either order (last value %s)', (last) => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.put(2, 'x', 'b', 5, 15);
    h.get(3, 'x', last, 20, 30);
    h.get(1, 'x', last, 31, 40);
    expect(checkLinearizable(h.ops).linearizable).toBe(true);
  });

  it('accepts reads overlapping a write that see the old and then the new value', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 1);
    h.put(1, 'x', 'b', 10, 50);
    h.get(2, 'x', 'a', 12, 20);
    h.get(2, 'x', 'b', 21, 30);
    h.get(3, 'x', 'b', 25, 60);
    expect(checkLinearizable(h.ops).linearizable).toBe(true);
  });

  it('accepts an indeterminate write that took effect, even after its client gave up', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 5);
    h.info(h.put(1, 'x', 'b', 10, 20));
    h.get(2, 'x', 'a', 30, 40);
    h.get(2, 'x', 'b', 50, 60);
    expect(checkLinearizable(h.ops).linearizable).toBe(true);
  });

  it('accepts an indeterminate write that never took effect', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 5);
    h.info(h.put(1, 'x', 'b', 10, 20));
    h.info(h.delete(3, 'x', true, 11, 12));
    h.get(2, 'x', 'a', 30, 40);
    h.get(2, 'x', 'a', 50, 60);
    expect(checkLinearizable(h.ops).linearizable).toBe(true);
  });

  it('ignores failed ops', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 5);
    h.fail(h.put(2, 'x', 'b', 6, 8));
    h.fail(h.get(3, 'x', 'zzz', 6, 8));
    h.get(1, 'x', 'a', 10, 20);
    const r = checkLinearizable(h.ops);
    expect(r.linearizable).toBe(true);
    expect(r.ops).toBe(2);
  });

  it('treats ops with equal timestamps as concurrent', () => {
    const h = new HistoryBuilder();
    h.get(1, 'x', 'a', 0, 10);
    h.put(2, 'x', 'a', 10, 20);
    expect(checkLinearizable(h.ops).linearizable).toBe(true);
  });

  it('starts each key from opts.initial', () => {
    const h = new HistoryBuilder();
    h.get(1, 'x', 'seed', 0, 1);
    h.get(1, 'y', null, 2, 3);
    expect(checkLinearizable(h.ops).linearizable).toBe(false);
    expect(checkLinearizable(h.ops, { initial: new Map([['x', 'seed']]) }).linearizable).toBe(true);
  });
});

describe('checkLinearizable: canaries are reported', () => {
  it('reports a stale read', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', '1', 0, 10);
    h.put(1, 'x', '2', 20, 30);
    h.put(3, 'other', 'o', 0, 50);
    const stale = h.get(2, 'x', '1', 40, 50);
    const r = checkLinearizable(h.ops);
    expectViolation(r, 'x', stale);
    expect(r.violations[0].ops).toHaveLength(2);
    expect(r.violations[0].explanation).toContain(`get #${stale.id}`);
    expect(r.violations[0].explanation).toContain('can only return "2"');
  });

  it('reports a lost write: an acked put never visible while later reads see the older value', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'old', 0, 10);
    const lost = h.put(2, 'x', 'new', 20, 30);
    h.get(3, 'x', 'old', 25, 35);
    const read = h.get(3, 'x', 'old', 40, 50);
    h.get(1, 'x', 'old', 60, 70);
    expectViolation(checkLinearizable(h.ops), 'x', lost, read);
  });

  it('reports a cas that succeeded twice from the same expected value', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.cas(1, 'x', 'a', 'b', true, 20, 30);
    const second = h.cas(2, 'x', 'a', 'c', true, 40, 50);
    expectViolation(checkLinearizable(h.ops), 'x', second);
  });

  it('reports two concurrent cas ops that both succeeded from the same expected value', () => {
    const h = new HistoryBuilder();
    h.put(1, 'lock', 'free', 0, 10);
    const first = h.cas(1, 'lock', 'free', 'held-by-1', true, 20, 40);
    const second = h.cas(2, 'lock', 'free', 'held-by-2', true, 25, 45);
    expectViolation(checkLinearizable(h.ops), 'lock', first, second);
  });

  it('reports a read of a value never written', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.put(1, 'y', 'b', 0, 10);
    const ghost = h.get(2, 'y', 'never', 20, 30);
    const r = checkLinearizable(h.ops);
    expectViolation(r, 'y', ghost);
    expect(r.violations[0].explanation).toContain('can only return "b"');
  });

  it('reports a read of the old value after a completed delete', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    const del = h.delete(1, 'x', true, 20, 30);
    const read = h.get(2, 'x', 'a', 40, 50);
    const r = checkLinearizable(h.ops);
    expectViolation(r, 'x', del, read);
    expect(r.violations[0].explanation).toContain('can only return absent');
  });

  it('reports a read of a failed write', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.fail(h.put(2, 'x', 'b', 20, 30));
    const read = h.get(3, 'x', 'b', 40, 50);
    expectViolation(checkLinearizable(h.ops), 'x', read);
  });

  it('reports a read that saw an indeterminate write before it was invoked', () => {
    const h = new HistoryBuilder();
    const read = h.get(1, 'x', 'b', 0, 10);
    h.info(h.put(2, 'x', 'b', 20, 30));
    expectViolation(checkLinearizable(h.ops), 'x', read);
  });

  it('reports an indeterminate write seen and then undone', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.info(h.put(2, 'x', 'b', 20, 30));
    h.get(3, 'x', 'b', 40, 50);
    const undone = h.get(3, 'x', 'a', 60, 70);
    expectViolation(checkLinearizable(h.ops), 'x', undone);
  });

  it('reports a delete that claims the key existed when it never did', () => {
    const h = new HistoryBuilder();
    const del = h.delete(1, 'x', true, 0, 10);
    expectViolation(checkLinearizable(h.ops), 'x', del);
  });

  it('reports each violating key once and leaves healthy keys out', () => {
    const h = new HistoryBuilder();
    h.put(1, 'a', '1', 0, 10);
    h.get(2, 'a', 'zz', 20, 30);
    h.put(1, 'b', '1', 0, 10);
    h.get(2, 'b', '1', 20, 30);
    h.put(1, 'c', '1', 0, 10);
    h.get(2, 'c', null, 20, 30);
    const r = checkLinearizable(h.ops);
    expect(r.linearizable).toBe(false);
    expect(r.keys).toBe(3);
    expect(r.violations.map((v) => v.key).sort()).toEqual(['a', 'c']);
  });
});

describe('checkLinearizable: search budget', () => {
  it('reports a key whose search ran out of budget as unknown, not as a violation', () => {
    const h = new HistoryBuilder();
    for (let c = 0; c < 6; c++) h.put(c, 'x', `v${c}`, 0, 100);
    h.get(7, 'x', 'never', 200, 210);
    const r = checkLinearizable(h.ops, { maxStatesPerKey: 3 });
    expect(r).toMatchObject({ incomplete: true, unknownKeys: ['x'], violations: [] });
    expect(checkLinearizable(h.ops).linearizable).toBe(false);
  });
});
