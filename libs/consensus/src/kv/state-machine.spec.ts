import { seededRng } from '../util/rng';
import { KvStateMachine, decodeRequest, encodeRequest, type KvCommand, type KvRequest } from './index';
import { packr } from './msgpack';

let nextId = 0;
const req = (cmd: KvCommand, ts = 1000, id = `req-${++nextId}`): KvRequest => ({ id, ts, cmd });
const put = (key: string, value: string): KvCommand => ({ op: 'put', key, value });
const del = (key: string): KvCommand => ({ op: 'delete', key });
const cas = (key: string, expected: string | null, value: string): KvCommand => ({ op: 'cas', key, expected, value });

describe('KvStateMachine: commands', () => {
  it('put then get returns the value and the revision of the last change', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(1, req(put('a', '1')))).toEqual({ op: 'put', key: 'a', value: '1', revision: 1 });
    expect(sm.get('a')).toMatchObject({ key: 'a', value: '1', revision: 1 });
    sm.apply(4, req(put('b', '2')));
    sm.apply(7, req(put('a', '3')));
    expect(sm.get('a')).toMatchObject({ key: 'a', value: '3', revision: 7 });
    expect(sm.get('b')).toMatchObject({ key: 'b', value: '2', revision: 4 });
    expect(sm.get('missing')).toBeNull();
    expect(sm.size).toBe(2);
    expect(sm.appliedRevision).toBe(7);
  });

  it('delete removes an existing key; a missing key gives deleted:false, no change, revision = position', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('a', '1')));
    expect(sm.apply(2, req(del('a')))).toEqual({ op: 'delete', key: 'a', deleted: true, revision: 2 });
    expect(sm.get('a')).toBeNull();
    expect(sm.size).toBe(0);
    sm.apply(3, req(put('b', 'x')));
    const before = sm.get('b');
    expect(sm.apply(5, req(del('nope')))).toEqual({ op: 'delete', key: 'nope', deleted: false, revision: 5 });
    expect(sm.get('b')).toEqual(before);
    expect(sm.size).toBe(1);
    expect(sm.appliedRevision).toBe(5);
  });

  it('cas succeeds only on a matching expected value; null means "must be absent"', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(1, req(cas('k', null, 'v1')))).toEqual({ op: 'cas', key: 'k', succeeded: true, value: 'v1', revision: 1 });
    expect(sm.get('k')).toMatchObject({ key: 'k', value: 'v1', revision: 1 });

    expect(sm.apply(2, req(cas('k', null, 'v2')))).toEqual({ op: 'cas', key: 'k', succeeded: false, value: 'v1', revision: 2 });
    expect(sm.apply(3, req(cas('k', 'wrong', 'v2')))).toEqual({ op: 'cas', key: 'k', succeeded: false, value: 'v1', revision: 3 });
    expect(sm.get('k')).toMatchObject({ key: 'k', value: 'v1', revision: 1 });

    expect(sm.apply(4, req(cas('k', 'v1', 'v2')))).toEqual({ op: 'cas', key: 'k', succeeded: true, value: 'v2', revision: 4 });
    expect(sm.get('k')).toMatchObject({ key: 'k', value: 'v2', revision: 4 });

    expect(sm.apply(5, req(cas('absent', 'x', 'y')))).toEqual({ op: 'cas', key: 'absent', succeeded: false, value: null, revision: 5 });
    expect(sm.get('absent')).toBeNull();
  });

  it('an empty string is a value, distinct from absence', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('k', '')));
    expect(sm.get('k')).toMatchObject({ key: 'k', value: '', revision: 1 });
    expect(sm.apply(2, req(cas('k', null, 'x')))).toMatchObject({ succeeded: false, value: '' });
    expect(sm.apply(3, req(cas('k', '', 'x')))).toMatchObject({ succeeded: true, value: 'x' });
  });

  it('positions must strictly increase; a bad one throws and changes nothing', () => {
    const sm = new KvStateMachine();
    sm.apply(3, req(put('a', '1')));
    const digest = sm.digest();
    expect(() => sm.apply(3, req(put('a', '2')))).toThrow(/position 3/);
    expect(() => sm.apply(2, req(put('a', '2')))).toThrow();
    expect(() => sm.apply(1.5 + 3, req(put('a', '2')))).toThrow();
    expect(() => sm.skip(3)).toThrow();
    expect(() => sm.apply(9, req({ op: 'get', key: 'a' } as unknown as KvCommand))).toThrow(/unknown op/);
    expect(sm.digest()).toBe(digest);
    expect(sm.appliedRevision).toBe(3);
  });

  it('skip advances appliedRevision only', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('a', '1')));
    sm.skip(2);
    expect(sm.appliedRevision).toBe(2);
    expect(sm.get('a')).toMatchObject({ key: 'a', value: '1', revision: 1 });
    expect(sm.apply(3, req(put('b', '1'))).revision).toBe(3);
  });

  it('a caller mutating a returned item or result cannot change the state', () => {
    const sm = new KvStateMachine();
    const r = sm.apply(1, req(put('a', '1'), 1000, 'same')) as { value: string };
    r.value = 'hacked';
    const item = sm.get('a') as { value: string };
    item.value = 'hacked';
    expect(sm.get('a')?.value).toBe('1');
    expect(sm.apply(2, req(put('a', '1'), 1000, 'same'))).toMatchObject({ value: '1' });
  });
});

describe('KvStateMachine: list', () => {
  const sm = new KvStateMachine();
  const keys = ['b/2', 'a', 'b/1', 'b', 'b/10', 'c/1', 'b0', 'ab', 'b/3'];
  keys.forEach((k, i) => sm.apply(i + 1, req(put(k, `v-${k}`))));

  it('returns keys with the prefix, sorted, up to limit', () => {
    expect(sm.list('b/', 10).map((i) => i.key)).toEqual(['b/1', 'b/10', 'b/2', 'b/3']);
    expect(sm.list('b/', 2).map((i) => i.key)).toEqual(['b/1', 'b/10']);
    expect(sm.list('b', 100).map((i) => i.key)).toEqual(['b', 'b/1', 'b/10', 'b/2', 'b/3', 'b0']);
    expect(sm.list('a', 100).map((i) => i.key)).toEqual(['a', 'ab']);
    expect(sm.list('z', 10)).toEqual([]);
    expect(sm.list('b/', 0)).toEqual([]);
  });

  it('empty prefix lists everything; items carry value and revision', () => {
    expect(sm.list('', 1000).map((i) => i.key)).toEqual([...keys].sort());
    expect(sm.list('c/', 5)).toEqual([{ key: 'c/1', value: 'v-c/1', revision: 6, createRevision: 6, modRevision: 6, version: 1 }]);
  });

  it('pages: each page starts after the last key of the one before, and every key is reached', () => {
    const s = new KvStateMachine();
    const ks = Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    ks.forEach((k, i) => s.apply(i + 1, req(put(k, 'v'))));
    s.apply(2501, req(put('k0', 'outside the prefix')));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = s.list('k/', 1000, after);
      seen.push(...page.map((i) => i.key));
      if (page.length < 1000) break;
      after = page[page.length - 1].key;
    }
    expect(seen).toEqual(ks);
    expect(s.list('k/', 10, 'a')).toHaveLength(10); // before the prefix: from its start
    expect(s.list('k/', 10, 'k/9999')).toEqual([]); // past its end
    expect(s.list('k/', 2, 'k/0001x').map((i) => i.key)).toEqual(['k/0002', 'k/0003']); // not itself a key
  });

  it('createRevision, modRevision and version follow a key through its life', () => {
    const s = new KvStateMachine();
    s.apply(3, req(put('a', '1')));
    expect(s.get('a')).toMatchObject({ createRevision: 3, modRevision: 3, revision: 3, version: 1 });
    s.apply(5, req(put('a', '2')));
    s.apply(6, req({ op: 'cas', key: 'a', expected: '2', value: '3' }));
    s.apply(7, req({ op: 'cas', key: 'a', expected: 'nope', value: '4' })); // fails: no change
    expect(s.get('a')).toMatchObject({ value: '3', createRevision: 3, modRevision: 6, version: 3 });
    s.apply(8, req(del('a')));
    s.apply(9, req(put('a', 'again')));
    expect(s.get('a')).toMatchObject({ value: 'again', createRevision: 9, modRevision: 9, version: 1 });
    // Kept across a snapshot.
    expect(KvStateMachine.restore(s.snapshot()).get('a')).toEqual(s.get('a'));
  });

  it('sees later inserts, overwrites and deletes', () => {
    const s = new KvStateMachine();
    s.apply(1, req(put('p/b', '1')));
    expect(s.list('p/', 10).map((i) => i.key)).toEqual(['p/b']);
    s.apply(2, req(put('p/a', '1')));
    s.apply(3, req(put('p/b', '2')));
    expect(s.list('p/', 10)).toEqual([
      { key: 'p/a', value: '1', revision: 2, createRevision: 2, modRevision: 2, version: 1 },
      { key: 'p/b', value: '2', revision: 3, createRevision: 1, modRevision: 3, version: 2 },
    ]);
    s.apply(4, req(del('p/a')));
    expect(s.list('p/', 10).map((i) => i.key)).toEqual(['p/b']);
  });
});

describe('KvStateMachine: client sessions (exactly-once)', () => {
  it('a duplicate request id returns the first result and has no second effect', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, req(put('a', '1'), 1000, 'X'));
    sm.apply(2, req(put('a', '2'), 1001, 'Y'));
    const again = sm.apply(3, req(put('a', '1'), 1002, 'X'));
    expect(again).toEqual(first);
    expect(again.revision).toBe(1);
    expect(sm.get('a')).toMatchObject({ key: 'a', value: '2', revision: 2 });
    expect(sm.appliedRevision).toBe(3);
  });

  it('a duplicate id carrying a different command still returns the first result, no effect', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, req(cas('k', null, 'v'), 1000, 'X'));
    expect(sm.apply(2, req(del('k'), 1000, 'X'))).toEqual(first);
    expect(sm.apply(3, req(put('other', 'z'), 1000, 'X'))).toEqual(first);
    expect(sm.get('k')).toMatchObject({ key: 'k', value: 'v', revision: 1 });
    expect(sm.get('other')).toBeNull();
    expect(sm.size).toBe(1);
  });

  it('a duplicate id with the same fingerprint is a retry: the first result, no second effect', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, { ...req(put('a', '1'), 1000, 'rest:K'), fingerprint: 'fp-1' });
    sm.apply(2, req(put('a', '2'), 1001, 'other'));
    expect(sm.apply(3, { ...req(put('a', '1'), 1002, 'rest:K'), fingerprint: 'fp-1' })).toEqual(first);
    expect(sm.get('a')?.value).toBe('2');
  });

  it('a duplicate id with another fingerprint is a conflict: nothing applied, nothing remembered', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, { ...req(put('idemA', 'x'), 1000, 'rest:K'), fingerprint: 'fp-A' });
    const sessions = sm.sessionCount;
    expect(sm.apply(2, { ...req(put('idemB', 'y'), 1000, 'rest:K'), fingerprint: 'fp-B' })).toEqual({ op: 'conflict', key: 'idemB', revision: 2 });
    expect(sm.apply(3, { ...req(del('idemA'), 1000, 'rest:K'), fingerprint: 'fp-C' })).toEqual({ op: 'conflict', key: 'idemA', revision: 3 });
    expect(sm.get('idemB')).toBeNull();
    expect(sm.get('idemA')).toMatchObject({ key: 'idemA', value: 'x', revision: 1 });
    expect(sm.sessionCount).toBe(sessions);
    expect(sm.appliedRevision).toBe(3);
    // the conflicts did not replace the first request's session: its retry still gets its answer
    expect(sm.apply(4, { ...req(put('idemA', 'x'), 1000, 'rest:K'), fingerprint: 'fp-A' })).toEqual(first);
  });

  it('a fingerprint on one side only is a different request', () => {
    const sm = new KvStateMachine();
    sm.apply(1, { ...req(put('a', '1'), 1000, 'with'), fingerprint: 'fp' });
    sm.apply(2, req(put('b', '1'), 1000, 'without'));
    expect(sm.apply(3, req(put('a', '1'), 1000, 'with'))).toMatchObject({ op: 'conflict' });
    expect(sm.apply(4, { ...req(put('b', '1'), 1000, 'without'), fingerprint: 'fp' })).toMatchObject({ op: 'conflict' });
    expect(sm.apply(5, req(put('b', '1'), 1000, 'without'))).toEqual({ op: 'put', key: 'b', value: '1', revision: 2 });
  });

  it('a retried delete reports the first outcome, not "missing"', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('k', 'v')));
    expect(sm.apply(2, req(del('k'), 1000, 'D'))).toMatchObject({ deleted: true });
    expect(sm.apply(3, req(del('k'), 1000, 'D'))).toEqual({ op: 'delete', key: 'k', deleted: true, revision: 2 });
  });

  it('no clock: a request ts years apart changes nothing (a gateway clock far ahead expires no session)', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, req(put('n', '1'), 1000, 'c/1'));
    sm.apply(2, req(put('n', '2'), 1000 + 10 * 365 * 86_400_000, 'c/2'));
    expect(sm.apply(3, req(put('n', '1'), 0, 'c/1'))).toEqual(first);
    expect(sm.get('n')?.value).toBe('2');
  });

  it("a seq older than its client's window is refused, never applied again; newer ones are retries", () => {
    const sm = new KvStateMachine({ sessionWindow: 3 });
    for (let i = 1; i <= 5; i++) sm.apply(i, req(put('w', `v${i}`), 1000, `c/${i}`));
    // window 3: seqs 3..5 remembered, 1..2 forgotten
    expect(sm.apply(6, req(put('w', 'v1'), 1000, 'c/1'))).toEqual({ op: 'refused', key: 'w', reason: 'outside-window', revision: 6 });
    expect(sm.apply(7, req(put('w', 'v3'), 1000, 'c/3'))).toEqual({ op: 'put', key: 'w', value: 'v3', revision: 3 });
    expect(sm.get('w')).toMatchObject({ key: 'w', value: 'v5', revision: 5 });
    // other clients have windows of their own
    expect(sm.apply(8, req(put('w', 'd1'), 1000, 'd/1')).revision).toBe(8);
  });

  it('a late first attempt inside the window is applied (out of order is not a retry)', () => {
    const sm = new KvStateMachine({ sessionWindow: 4 });
    sm.apply(1, req(put('a', '3'), 1000, 'c/3'));
    sm.apply(2, req(put('a', '5'), 1000, 'c/5'));
    expect(sm.apply(3, req(put('b', '2'), 1000, 'c/2'))).toEqual({ op: 'put', key: 'b', value: '2', revision: 3 });
    expect(sm.apply(4, req(put('b', '1'), 1000, 'c/1'))).toMatchObject({ op: 'refused', reason: 'outside-window' });
  });

  it('over maxSessions the least recently active client is dropped, and every later request of it is refused', () => {
    const sm = new KvStateMachine({ sessionWindow: 2, maxSessions: 3 });
    sm.apply(1, req(put('k', 'a1'), 1000, 'A/1'));
    sm.apply(2, req(put('k', 'b1'), 1000, 'B/1'));
    sm.apply(3, req(put('k', 'a2'), 1000, 'A/2')); // A active again: B is now the least recent
    sm.apply(4, req(put('k', 'c1'), 1000, 'C/1')); // 4 results > 3: B goes
    expect(sm.sessionCount).toBe(3);
    expect(sm.sessionClients).toEqual({ live: 2, dropped: 1 });
    expect(sm.apply(5, req(put('k', 'b1'), 1000, 'B/1'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
    expect(sm.apply(6, req(put('k', 'b9'), 1000, 'B/9'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
    expect(sm.apply(7, req(put('k', 'a1'), 1000, 'A/1'))).toMatchObject({ op: 'put', value: 'a1', revision: 1 });
    expect(sm.get('k')?.value).toBe('c1');
  });

  it('a one-shot id (no /seq) is remembered until its client is dropped, then refused', () => {
    const sm = new KvStateMachine({ sessionWindow: 1, maxSessions: 2 });
    sm.apply(1, req(put('k', '1'), 1000, 'uuid-1'));
    sm.apply(2, req(put('k', '2'), 1000, 'uuid-2'));
    expect(sm.apply(3, req(put('k', '1'), 1000, 'uuid-1')).revision).toBe(1); // a retry is not activity
    sm.apply(4, req(put('k', '3'), 1000, 'uuid-3')); // uuid-1 is the least recently applied: dropped
    expect(sm.apply(5, req(put('k', '1'), 1000, 'uuid-1'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
    expect(sm.apply(6, req(put('k', '2'), 1000, 'uuid-2')).revision).toBe(2);
    expect(sm.get('k')?.value).toBe('3');
  });

  it('refusals and conflicts do not count as activity and are not remembered', () => {
    const sm = new KvStateMachine({ sessionWindow: 1, maxSessions: 2 });
    sm.apply(1, req(put('k', '1'), 1000, 'A/2'));
    sm.apply(2, req(put('k', '2'), 1000, 'B/1'));
    expect(sm.apply(3, req(put('k', 'x'), 1000, 'A/1'))).toMatchObject({ op: 'refused' });
    sm.apply(4, req(put('k', '3'), 1000, 'C/1')); // A is still the least recently active
    expect(sm.apply(5, req(put('k', 'y'), 1000, 'A/3'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
    expect(sm.apply(6, req(put('k', '2'), 1000, 'B/1')).revision).toBe(2);
  });

  it('rejects a window it cannot keep', () => {
    expect(() => new KvStateMachine({ sessionWindow: 0 })).toThrow(/window/);
    expect(() => new KvStateMachine({ sessionWindow: 10, maxSessions: 5 })).toThrow(/maxRemembered/);
  });
});

/** A seeded history of mixed commands with retries (some past their window), clock skew and no-ops. */
function history(seed: number, n: number): Array<{ revision: number; req: KvRequest | null }> {
  const rng = seededRng(seed);
  const out: Array<{ revision: number; req: KvRequest | null }> = [];
  const sent: KvRequest[] = [];
  const seqs: number[] = [];
  let ts = 1_700_000_000_000;
  let revision = 0;
  for (let i = 0; i < n; i++) {
    revision += rng.int(1, 3);
    ts += rng.int(-20, 60);
    const roll = rng.next();
    if (roll < 0.05) {
      out.push({ revision, req: null });
      continue;
    }
    if (roll < 0.2 && sent.length > 0) {
      const old = sent[rng.int(Math.max(0, sent.length - 50), sent.length - 1)];
      // Mostly a retry; sometimes the id reused for another request (another fingerprint).
      const reuse = rng.next() < 0.25;
      out.push({ revision, req: reuse ? { ...old, ts, fingerprint: `other-${rng.int(0, 3)}` } : { ...old, ts } });
      continue;
    }
    const key = `k${rng.int(0, 40)}`;
    const which = rng.int(0, 2);
    const cmd: KvCommand =
      which === 0 ? put(key, `v${rng.int(0, 5)}`) : which === 1 ? del(key) : cas(key, rng.next() < 0.3 ? null : `v${rng.int(0, 5)}`, `v${rng.int(0, 5)}`);
    // Mostly session ids of a few clients (windows move, old seqs get refused), some one-shot ids.
    const client = rng.int(0, 4);
    const id = rng.next() < 0.8 ? `c${client}/${(seqs[client] = (seqs[client] ?? 0) + 1)}` : `s${seed}-${i}`;
    const r: KvRequest = rng.next() < 0.5 ? { id, ts, cmd, fingerprint: `fp-${i}` } : { id, ts, cmd };
    sent.push(r);
    out.push({ revision, req: r });
  }
  return out;
}

function run(sm: KvStateMachine, h: ReturnType<typeof history>, from = 0, to = h.length): unknown[] {
  const results: unknown[] = [];
  for (let i = from; i < to; i++) {
    const { revision, req: r } = h[i];
    if (r === null) sm.skip(revision);
    else results.push(sm.apply(revision, r));
  }
  return results;
}

describe('KvStateMachine: determinism, snapshot, digest', () => {
  const opts = { sessionWindow: 8, maxSessions: 60 };

  it('two instances fed the same commands agree on every result and the digest', () => {
    const h = history(7, 3000);
    const a = new KvStateMachine(opts);
    const b = new KvStateMachine(opts);
    // b gets each request through the wire codec, as a follower would.
    const ra = run(a, h);
    const rb = run(
      b,
      h.map((e) => ({ revision: e.revision, req: e.req && decodeRequest(encodeRequest(e.req)) })),
    );
    expect(rb).toEqual(ra);
    expect(b.digest()).toBe(a.digest());
    expect(b.digest()).toMatch(/^[0-9a-f]{64}$/);
    expect(a.sessionCount).toBeGreaterThan(0);
  });

  it('different histories give different digests', () => {
    const base = () => {
      const sm = new KvStateMachine();
      sm.apply(1, req(put('a', '1'), 10, 'A'));
      return sm;
    };
    const d0 = base().digest();
    const changedValue = base();
    changedValue.apply(2, req(put('a', '2'), 10, 'B'));
    const sameDataOtherSession = base();
    sameDataOtherSession.apply(2, req(put('a', '1'), 10, 'C'));
    const sameDataOtherRevision = base();
    sameDataOtherRevision.skip(2);
    const laterTs = base();
    laterTs.apply(2, req(del('missing'), 11, 'B'));
    const digests = [d0, changedValue.digest(), sameDataOtherSession.digest(), sameDataOtherRevision.digest(), laterTs.digest()];
    expect(new Set(digests).size).toBe(digests.length);
    // …and the dedup difference shows up in the digest, not only in the data.
    const otherId = base();
    otherId.apply(2, req(put('a', '2'), 10, 'C'));
    expect(otherId.digest()).not.toBe(changedValue.digest());
  });

  it('digest does not depend on key insertion order', () => {
    // b's map holds y before x; a restored copy of it holds them in key order (restore inserts sorted).
    const b = new KvStateMachine({ sessionWindow: 1 });
    b.apply(1, req(put('y', '1'), 1000, 'p/1'));
    b.apply(2, req(put('x', '1'), 1000, 'p/2'));
    b.apply(3, req(put('y', '2'), 1000, 'p/3'));
    const a = KvStateMachine.restore(b.snapshot(), { sessionWindow: 1 });
    expect(a.digest()).toBe(b.digest());
    // createRevision and version are part of the state: the same values by another history differ.
    const c = new KvStateMachine({ sessionWindow: 1 });
    c.apply(1, req(put('x', '1'), 1000, 'p/1'));
    c.apply(2, req(put('y', '1'), 1000, 'p/2'));
    c.apply(3, req(put('y', '2'), 1000, 'p/3'));
    expect(c.list('', 10).map((i) => i.value)).toEqual(b.list('', 10).map((i) => i.value));
    expect(c.digest()).not.toBe(b.digest());
  });

  it('snapshot/restore round-trips exactly and the restored replica stays in lockstep', () => {
    const h = history(11, 2500);
    const cut = 1200;
    const live = new KvStateMachine(opts);
    run(live, h, 0, cut);
    const snap = live.snapshot();
    const restored = KvStateMachine.restore(snap, opts);
    expect(restored.digest()).toBe(live.digest());
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(snap))).toBe(true);
    expect(restored.appliedRevision).toBe(live.appliedRevision);
    expect(restored.size).toBe(live.size);
    expect(restored.sessionCount).toBe(live.sessionCount);
    expect(restored.list('', 1000)).toEqual(live.list('', 1000));
    // sessions survive: the rest of the history (retries included) gives the same answers
    expect(run(restored, h, cut)).toEqual(run(live, h, cut));
    expect(restored.digest()).toBe(live.digest());
  });

  it('restore keeps cached results: a retry after restore is still deduplicated', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, req(put('a', '1'), 1000, 'X'));
    const r = KvStateMachine.restore(sm.snapshot());
    expect(r.apply(2, req(put('a', 'other'), 1000, 'X'))).toEqual(first);
    expect(r.get('a')?.value).toBe('1');
  });

  it('restore keeps fingerprints: after restore a reused id with another request is still a conflict', () => {
    const sm = new KvStateMachine();
    const first = sm.apply(1, { ...req(put('a', '1'), 1000, 'X'), fingerprint: 'fp-X' });
    sm.apply(2, req(put('b', '1'), 1000, 'Y'));
    const r = KvStateMachine.restore(sm.snapshot());
    expect(r.digest()).toBe(sm.digest());
    expect(r.apply(3, { ...req(put('a', '2'), 1000, 'X'), fingerprint: 'fp-other' })).toEqual({ op: 'conflict', key: 'a', revision: 3 });
    expect(r.apply(4, { ...req(put('a', '1'), 1000, 'X'), fingerprint: 'fp-X' })).toEqual(first);
    expect(r.apply(5, req(put('b', '1'), 1000, 'Y'))).toMatchObject({ op: 'put', revision: 2 });
    expect(r.get('a')?.value).toBe('1');
  });

  it('the fingerprint is part of the state: same results so far, different fingerprints, different digests', () => {
    const a = new KvStateMachine();
    const b = new KvStateMachine();
    expect(a.apply(1, { ...req(put('k', 'v'), 1000, 'X'), fingerprint: 'one' })).toEqual(b.apply(1, { ...req(put('k', 'v'), 1000, 'X'), fingerprint: 'two' }));
    expect(a.digest()).not.toBe(b.digest());
  });

  it('reads a version 1 snapshot (sessions without fingerprints) and writes version 6', () => {
    const v1 = packr.pack(['synod-kv', 1, 3, 1000, ['a', '1', 2], ['X', 1000, [0, 'a', '1', 2]]]);
    const r = KvStateMachine.restore(v1);
    expect(r.get('a')).toMatchObject({ key: 'a', value: '1', revision: 2 });
    expect(r.apply(4, req(put('a', 'again'), 1000, 'X'))).toEqual({ op: 'put', key: 'a', value: '1', revision: 2 });
    expect(r.apply(5, { ...req(put('a', 'again'), 1000, 'X'), fingerprint: 'fp' })).toMatchObject({ op: 'conflict' });
    expect(packr.unpack(r.snapshot())[1]).toBe(6);
  });

  it('reads a version 2 snapshot: per-request sessions regrouped by client, most recently applied last', () => {
    const v2 = packr.pack([
      'synod-kv',
      2,
      4,
      1000,
      ['a', '3', 3],
      ['c/1', 1000, [0, 'a', '1', 1], null, 'one-shot', 1000, [0, 'a', '2', 2], 'fp', 'c/2', 1000, [0, 'a', '3', 3], null],
    ]);
    const r = KvStateMachine.restore(v2, { sessionWindow: 1 });
    expect(r.sessionClients).toEqual({ live: 2, dropped: 0 });
    expect(r.apply(5, req(put('a', '1'), 1000, 'c/1'))).toMatchObject({ op: 'refused', reason: 'outside-window' });
    expect(r.apply(6, req(put('a', '3'), 1000, 'c/2'))).toMatchObject({ op: 'put', revision: 3 });
    expect(r.apply(7, { ...req(put('a', '2'), 1000, 'one-shot'), fingerprint: 'fp' })).toMatchObject({ op: 'put', revision: 2 });
  });

  it('tombstones are state: they survive a snapshot and count in the digest', () => {
    const sm = new KvStateMachine({ sessionWindow: 1, maxSessions: 1 });
    sm.apply(1, req(put('k', '1'), 1000, 'A/1'));
    sm.apply(2, req(put('k', '2'), 1000, 'B/1'));
    const r = KvStateMachine.restore(sm.snapshot(), { sessionWindow: 1, maxSessions: 1 });
    expect(r.digest()).toBe(sm.digest());
    expect(r.apply(3, req(put('k', '1'), 1000, 'A/1'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
    const other = new KvStateMachine({ sessionWindow: 1, maxSessions: 1 });
    other.apply(1, req(put('k', '1'), 1000, 'Z/1'));
    other.apply(2, req(put('k', '2'), 1000, 'B/1'));
    expect(other.digest()).not.toBe(sm.digest());
  });

  it('an empty state snapshots and restores', () => {
    const sm = new KvStateMachine();
    const r = KvStateMachine.restore(sm.snapshot());
    expect(r.digest()).toBe(sm.digest());
    expect(r.appliedRevision).toBe(0);
  });

  it('restore rejects garbage and tampered snapshots', () => {
    const sm = new KvStateMachine();
    sm.apply(1, req(put('a', '1')));
    expect(() => KvStateMachine.restore(new Uint8Array(0))).toThrow(/snapshot/);
    expect(() => KvStateMachine.restore(Buffer.from('garbage!'))).toThrow(/snapshot/);
    expect(() => KvStateMachine.restore(encodeRequest(req(put('a', '1'))))).toThrow(/snapshot/);
    const snap = Buffer.from(sm.snapshot());
    expect(() => KvStateMachine.restore(snap.subarray(0, snap.length - 2))).toThrow(/snapshot/);
    const session = (fp: unknown) => packr.pack(['synod-kv', 2, 1, 1000, ['a', '1', 1], ['X', 1000, [0, 'a', '1', 1], fp]]);
    expect(KvStateMachine.restore(session('fp')).apply(2, { ...req(put('a', '1'), 1000, 'X'), fingerprint: 'fp' }).revision).toBe(1);
    expect(() => KvStateMachine.restore(session(7))).toThrow(/fingerprint/);
    expect(() => KvStateMachine.restore(session(''))).toThrow(/fingerprint/);
    expect(() => KvStateMachine.restore(packr.pack(['synod-kv', 6, 0, [], [], Buffer.alloc(0)]))).toThrow(/version/);
    expect(() => KvStateMachine.restore(packr.pack(['synod-kv', 5, 0, [], [], Buffer.alloc(0)]))).toThrow(/version/); // v5 has nine fields
    const v4 = (data: unknown[]) => packr.pack(['synod-kv', 4, 9, data, [], Buffer.alloc(0)]);
    expect(KvStateMachine.restore(v4(['a', '1', 5, 3, 2])).get('a')).toMatchObject({ createRevision: 3, modRevision: 5, version: 2 });
    expect(() => KvStateMachine.restore(v4(['a', '1', 5, 6, 2]))).toThrow(/createRevision/); // created after its last change
    expect(() => KvStateMachine.restore(v4(['a', '1', 5, 3, 0]))).toThrow(/version/);
    expect(() => KvStateMachine.restore(v4(['a', '1', 5]))).toThrow(/data/);
    const v3 = (sessions: unknown[], tombstones: Buffer = Buffer.alloc(0)) => packr.pack(['synod-kv', 3, 1, ['a', '1', 1], sessions, tombstones]);
    expect(KvStateMachine.restore(v3(['c', 1, [1, [0, 'a', '1', 1], null]])).apply(2, req(put('a', '1'), 1000, 'c/1')).revision).toBe(1);
    expect(() => KvStateMachine.restore(v3(['c', 1, [2, [0, 'a', '1', 1], null]]))).toThrow(/seq/);
    expect(() => KvStateMachine.restore(v3(['c', 1, []]))).toThrow(/results/);
    expect(() => KvStateMachine.restore(v3(['c', 1, [1, [0, 'a', '1', 1], null], 'c', 1, [1, [0, 'a', '1', 1], null]]))).toThrow(/client/);
    expect(() => KvStateMachine.restore(v3([], Buffer.alloc(7)))).toThrow(/tombstones/);
    expect(() => KvStateMachine.restore(v3([], Buffer.alloc(16)))).toThrow(/sorted/);
  });

  it('restore with a smaller maxSessions drops the least recently active clients, for good', () => {
    const sm = new KvStateMachine();
    for (let i = 1; i <= 5; i++) sm.apply(i, req(put('k', `${i}`), 1000, `id${i}`));
    const r = KvStateMachine.restore(sm.snapshot(), { sessionWindow: 1, maxSessions: 2 });
    expect(r.sessionCount).toBe(2);
    expect(r.apply(6, req(put('k', 'x'), 1000, 'id5')).revision).toBe(5);
    expect(r.apply(7, req(put('k', 'x'), 1000, 'id1'))).toMatchObject({ op: 'refused', reason: 'session-expired' });
  });
});
