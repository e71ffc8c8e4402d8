import { seededRng } from '../util/rng';
import { ClientSessions } from './sessions';
import type { KvEffect } from './types';

const result = (revision: number): KvEffect => ({ op: 'delete', key: 'k', deleted: false, revision });

/** The rule, written as plainly as possible: what ClientSessions must hold after every step. */
class NaiveSessions {
  latestTs = 0;
  list: Array<{ id: string; ts: number; revision: number }> = [];
  constructor(
    private ttl: number,
    private max: number,
  ) {}
  advance(ts: number): void {
    this.latestTs = Math.max(this.latestTs, ts);
    this.list = this.list.filter((s) => this.latestTs - s.ts <= this.ttl);
  }
  lookup(id: string): number | undefined {
    return this.list.find((s) => s.id === id)?.revision;
  }
  record(id: string, ts: number, revision: number): void {
    if (this.latestTs - ts > this.ttl) return;
    this.list.push({ id, ts, revision });
    while (this.list.length > this.max) this.list.shift();
  }
}

describe('ClientSessions against the plain rule', () => {
  // skew: half the requests come from a proposer whose clock is that far ahead, so sessions
  // expire out of applied order (dead ones pile up behind live ones).
  it.each([
    [1, 500, 50, 0],
    [2, 50, 3000, 0],
    [3, 200, 1500, 0],
    [4, 0, 10, 0],
    [5, 2000, 5000, 1900],
    [6, 300, 100, 250],
  ])('seed %i (ttl %i, max %i, skew %i): same contents and order after every step', (seed, ttl, max, skew) => {
    const rng = seededRng(seed);
    const real = new ClientSessions(ttl, max);
    const model = new NaiveSessions(ttl, max);
    let ts = 10_000;
    let revision = 0;
    for (let step = 0; step < 6000; step++) {
      ts += rng.int(-40, 45); // proposer clocks disagree: ts is not monotonic
      const reqTs = rng.next() < 0.5 ? ts + skew : ts;
      const id = `r${rng.int(0, 4000)}`;
      revision++;
      real.advance(reqTs);
      model.advance(reqTs);
      const hit = real.lookup(id);
      expect(hit?.revision).toBe(model.lookup(id));
      if (hit === undefined) {
        real.record(id, reqTs, revision, result(revision));
        model.record(id, reqTs, revision);
      }
      if (step % 97 === 0 || step > 5900) {
        expect([...real.entries()].map((s) => [s.id, s.ts, s.revision])).toEqual(model.list.map((s) => [s.id, s.ts, s.revision]));
        expect(real.size).toBe(model.list.length);
        expect(real.latestTs).toBe(model.latestTs);
      }
    }
  });

  it('keeps a live session that sits in front of many expired ones (FIFO compaction)', () => {
    const s = new ClientSessions(1000, 1_000_000);
    s.advance(900);
    s.record('front', 900, 1, result(1));
    for (let i = 0; i < 3000; i++) s.record(`lag${i}`, 0, i + 2, result(i + 2)); // 900 - 0 <= ttl: kept
    expect(s.size).toBe(3001);
    s.advance(1050); // the lagging ones expire, 'front' (150 old) stays
    expect(s.size).toBe(1);
    s.record('next', 1050, 5000, result(5000));
    expect([...s.entries()].map((x) => x.id)).toEqual(['front', 'next']);
    expect(s.lookup('front')?.revision).toBe(1);
    for (let i = 0; i < 2000; i++) s.record(`more${i}`, 1050, 6000 + i, result(6000 + i));
    expect([...s.entries()].length).toBe(s.size);
    expect([...s.entries()][0].id).toBe('front');
  });

  it('load restores order and enforces limits', () => {
    const s = new ClientSessions(100, 2);
    s.load(1000, [
      { id: 'a', ts: 1000, result: result(1) },
      { id: 'b', ts: 850, result: result(2) }, // expired at latestTs 1000
      { id: 'c', ts: 990, result: result(3) },
      { id: 'd', ts: 995, result: result(4) },
    ]);
    expect([...s.entries()].map((x) => x.id)).toEqual(['c', 'd']);
  });

  it('load rejects duplicates and out-of-order sessions', () => {
    expect(() =>
      new ClientSessions(100, 10).load(0, [
        { id: 'a', ts: 0, result: result(1) },
        { id: 'a', ts: 0, result: result(2) },
      ]),
    ).toThrow(/duplicate/);
    expect(() =>
      new ClientSessions(100, 10).load(0, [
        { id: 'a', ts: 0, result: result(2) },
        { id: 'b', ts: 0, result: result(1) },
      ]),
    ).toThrow(/order/);
  });
});
