import { byKey } from './decompose';
import { ABSENT, RegOp, UNKNOWN, ValueTable } from './register';
import { searchRegister } from './search';
import { HistoryBuilder } from './testing/history-builder';
import { cutAt, forgetUntil } from './window';

function register(h: HistoryBuilder): { ops: RegOp[]; values: ValueTable } {
  const values = new ValueTable();
  return { ops: byKey(h.ops, values).get('x') ?? [], values };
}

describe('searchRegister', () => {
  it('from an unknown start, does not let a read pin the value before a concurrent cas', () => {
    const h = new HistoryBuilder();
    h.cas(1, 'x', 'a', 'z', true, 0, 10);
    h.get(2, 'x', 'z', 0, 10);
    const { ops } = register(h);
    expect(searchRegister(ops, UNKNOWN, 1000).verdict).toBe('linearizable');
    expect(searchRegister(ops, ABSENT, 1000).verdict).toBe('violation');
  });

  it('from an unknown start, still finds a stale read', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', '2', 0, 10);
    h.get(2, 'x', '1', 20, 30);
    expect(searchRegister(register(h).ops, UNKNOWN, 1000).verdict).toBe('violation');
  });

  it('reports where the failure starts: the completion of the first op no order can place', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.get(2, 'x', 'a', 5, 15);
    h.get(2, 'x', 'b', 20, 30);
    h.put(1, 'x', 'c', 40, 50);
    const result = searchRegister(register(h).ops, ABSENT, 1000);
    expect(result).toMatchObject({ verdict: 'violation', stuckAt: 30 });
  });

  it('may leave an indeterminate cas out, or apply it only where its expected value holds', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    h.info(h.cas(2, 'x', 'a', 'b', true, 20, 30));
    h.get(3, 'x', 'a', 40, 50);
    h.get(3, 'x', 'b', 60, 70);
    expect(searchRegister(register(h).ops, ABSENT, 1000).verdict).toBe('linearizable');
    const g = new HistoryBuilder();
    g.put(1, 'x', 'q', 0, 10);
    g.info(g.cas(2, 'x', 'a', 'b', true, 20, 30));
    g.get(3, 'x', 'b', 40, 50);
    expect(searchRegister(register(g).ops, ABSENT, 1000).verdict).toBe('violation');
  });

  it('gives up with "unknown" when the budget runs out', () => {
    const h = new HistoryBuilder();
    for (let c = 0; c < 5; c++) h.put(c, 'x', `v${c}`, 0, 100);
    h.get(9, 'x', 'none', 200, 210);
    expect(searchRegister(register(h).ops, ABSENT, 4).verdict).toBe('unknown');
    expect(searchRegister(register(h).ops, ABSENT, 1e5).verdict).toBe('violation');
  });
});

describe('windows', () => {
  it('cutAt keeps what completed by t, makes running ops indeterminate and drops later ones', () => {
    const h = new HistoryBuilder();
    const done = h.put(1, 'x', 'a', 0, 10);
    const running = h.put(2, 'x', 'b', 5, 30);
    const runningRead = h.get(3, 'x', 'b', 5, 30);
    const later = h.put(1, 'x', 'c', 21, 25);
    const cut = cutAt(register(h).ops, 20);
    expect(cut.map((o) => [o.src.id, o.optional])).toEqual([
      [done.id, false],
      [running.id, true],
    ]);
    expect(cut.map((o) => o.src)).not.toContain(runningRead);
    expect(cut.map((o) => o.src)).not.toContain(later);
  });

  it('forgetUntil drops what completed by s and makes ops running at s indeterminate', () => {
    const h = new HistoryBuilder();
    h.put(1, 'x', 'a', 0, 10);
    const running = h.put(2, 'x', 'b', 5, 30);
    const after = h.get(1, 'x', 'b', 40, 50);
    const kept = forgetUntil(register(h).ops, 10);
    expect(kept.map((o) => [o.src.id, o.optional])).toEqual([
      [running.id, true],
      [after.id, false],
    ]);
  });
});
