import { seededRng } from '../util/rng';
import { ClientSessions, parseRequestId, type SessionVerdict } from './sessions';
import type { KvEffect } from './types';

const result = (revision: number): KvEffect => ({ op: 'delete', key: 'k', deleted: false, revision });

/** The rule, written as plainly as possible: what ClientSessions must decide at every step. */
class NaiveSessions {
  /** Least recently active first. */
  live: Array<{ client: string; maxSeq: number; seqs: Map<number, number> }> = [];
  dropped = new Set<string>();
  constructor(
    private window: number,
    private max: number,
  ) {}
  check(id: string): SessionVerdict['kind'] | 'outside-window' | 'session-expired' {
    const { client, seq } = parseRequestId(id);
    const s = this.live.find((x) => x.client === client);
    if (!s) return this.dropped.has(client) ? 'session-expired' : 'new';
    if (s.seqs.has(seq)) return 'retry';
    return seq <= s.maxSeq - this.window ? 'outside-window' : 'new';
  }
  record(id: string, revision: number): void {
    const { client, seq } = parseRequestId(id);
    let s = this.live.find((x) => x.client === client);
    this.live = this.live.filter((x) => x.client !== client);
    s ??= { client, maxSeq: 0, seqs: new Map() };
    this.live.push(s);
    s.seqs.set(seq, revision);
    s.maxSeq = Math.max(s.maxSeq, seq);
    for (const q of [...s.seqs.keys()]) if (q <= s.maxSeq - this.window) s.seqs.delete(q);
    const total = () => this.live.reduce((n, x) => n + x.seqs.size, 0);
    while (total() > this.max && this.live[0] !== s) this.dropped.add(this.live.shift()!.client);
  }
  remembered(): Array<[string, number[]]> {
    return this.live.map((x) => [x.client, [...x.seqs.keys()].sort((a, b) => a - b)]);
  }
}

const kindOf = (v: SessionVerdict): string => (v.kind === 'refused' ? v.reason : v.kind);

describe('parseRequestId', () => {
  it.each([
    ['gw-1/17', 'gw-1', 17],
    ['rest:a/b/3', 'rest:a/b', 3],
    ['job:x/1', 'job:x', 1],
    ['uuid-only', 'uuid-only', 0],
    ['a/0', 'a/0', 0],
    ['a/01', 'a/01', 0],
    ['a/-1', 'a/-1', 0],
    ['/5', '/5', 0],
    ['a/1234567890123456', 'a/1234567890123456', 0],
  ])('%s -> client %s, seq %i', (id, client, seq) => {
    expect(parseRequestId(id)).toEqual({ client, seq });
  });
});

describe('ClientSessions against the plain rule', () => {
  it.each([
    [1, 1, 5, 6],
    [2, 3, 20, 4],
    [3, 10, 40, 12],
    [4, 50, 60, 3],
    [5, 4, 4, 30],
  ])('seed %i (window %i, max %i, %i clients): same verdicts and contents after every step', (seed, window, max, clients) => {
    const rng = seededRng(seed);
    const real = new ClientSessions(window, max);
    const model = new NaiveSessions(window, max);
    const next: number[] = new Array(clients).fill(0);
    let revision = 0;
    let refusals = 0;
    for (let step = 0; step < 4000; step++) {
      const c = rng.int(0, clients - 1);
      const r = rng.next();
      // New seqs, retries of recent and old ones, out-of-order seqs, one-shot ids.
      const id = r < 0.1 ? `once-${rng.int(0, 50)}` : r < 0.6 ? `c${c}/${++next[c]}` : `c${c}/${Math.max(1, next[c] - rng.int(0, 3 * window) + rng.int(0, 2))}`;
      const want = model.check(id);
      const got = real.check(id);
      expect([step, id, kindOf(got)]).toEqual([step, id, want]);
      if (got.kind === 'refused') refusals++;
      if (got.kind === 'new') {
        revision++;
        real.record(id, result(revision), undefined);
        model.record(id, revision);
      }
      expect(real.size).toBeLessThanOrEqual(max);
    }
    expect([...real.entries()].map((e) => [e.client, e.results.map(([seq]) => seq)])).toEqual(model.remembered());
    expect(real.tombstoneCount).toBe(model.dropped.size);
    expect(refusals).toBeGreaterThan(0); // the schedule reaches the rule under test
  });

  it('remembers each retried seq with its own first result', () => {
    const s = new ClientSessions(3, 10);
    s.record('c/1', result(1), 'fp');
    expect(s.check('c/1')).toEqual({ kind: 'retry', first: { result: result(1), fingerprint: 'fp' } });
  });

  it('load refuses a second copy of a client and seqs above maxSeq', () => {
    expect(() => new ClientSessions(2, 4).load([{ client: 'a', maxSeq: 1, results: [[2, { result: result(1), fingerprint: undefined }]] }], [])).toThrow(
      /maxSeq/,
    );
    const one = {
      client: 'a',
      maxSeq: 1,
      results: [[1, { result: result(1), fingerprint: undefined }]] as Array<[number, { result: KvEffect; fingerprint: undefined }]>,
    };
    expect(() => new ClientSessions(2, 4).load([one, one], [])).toThrow(/duplicate/);
  });
});
