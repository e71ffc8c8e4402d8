import { checkpointLedgerDigest, GENESIS_HASH, pbftBlockHash, raftBlockHash } from './block';
import { LedgerChain } from './chain';
import { recheckChain } from './recheck';
import { unwrapSnapshot, wrapSnapshot } from './snapshot';

const entry = (index: number, data: string | null, term = 1, type = data === null ? 'noop' : 'normal') => ({
  index,
  term,
  type,
  data: data === null ? null : new Uint8Array(Buffer.from(data)),
});

function chainOf(entries: ReturnType<typeof entry>[], window?: number): LedgerChain {
  const c = new LedgerChain({ index: 0, hash: GENESIS_HASH }, 0, window);
  for (const e of entries) c.append(e.index, (prev) => raftBlockHash(prev, e));
  return c;
}

describe('ledger blocks', () => {
  it('a block hash covers the previous hash and every field of its content', () => {
    const base = raftBlockHash(GENESIS_HASH, entry(1, 'a'));
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(raftBlockHash(GENESIS_HASH, entry(1, 'a'))).toBe(base); // deterministic
    expect(raftBlockHash('1'.repeat(64), entry(1, 'a'))).not.toBe(base);
    expect(raftBlockHash(GENESIS_HASH, entry(2, 'a'))).not.toBe(base);
    expect(raftBlockHash(GENESIS_HASH, entry(1, 'a', 2))).not.toBe(base);
    expect(raftBlockHash(GENESIS_HASH, entry(1, 'b'))).not.toBe(base);
    expect(raftBlockHash(GENESIS_HASH, entry(1, 'a', 1, 'config'))).not.toBe(base);
    // A noop (no data) and an empty entry differ by type, and nothing else collides.
    expect(raftBlockHash(GENESIS_HASH, entry(1, null))).not.toBe(raftBlockHash(GENESIS_HASH, entry(1, '', 1, 'normal')));
  });

  it('a PBFT block covers the batch digest and each executed result', () => {
    const r = (result: string) => ({ client: 'gateway/g1', id: 'x', position: 1, result: new Uint8Array(Buffer.from(result)) });
    const h = pbftBlockHash(GENESIS_HASH, { seq: 1, digest: 'd', requests: [r('ok')] });
    expect(pbftBlockHash(GENESIS_HASH, { seq: 1, digest: 'd', requests: [r('no')] })).not.toBe(h);
    expect(pbftBlockHash(GENESIS_HASH, { seq: 1, digest: 'e', requests: [r('ok')] })).not.toBe(h);
    expect(pbftBlockHash(GENESIS_HASH, { seq: 1, digest: 'd', requests: [] })).not.toBe(h);
  });

  it('refuses a prevHash that is not 32 bytes of hex', () => {
    expect(() => raftBlockHash('abc', entry(1, 'a'))).toThrow(/64 hex/);
  });

  it('a checkpoint digest covers the head; a state from before the ledger signs its digest alone', () => {
    const d = checkpointLedgerDigest('s', GENESIS_HASH);
    expect(d).not.toBe('s');
    expect(checkpointLedgerDigest('s', '1'.repeat(64))).not.toBe(d);
    expect(checkpointLedgerDigest('s', null)).toBe('s');
  });
});

describe('LedgerChain', () => {
  it('appends in order and answers the hashes it holds', () => {
    const es = [entry(1, 'a'), entry(2, null, 2), entry(3, 'b', 2)];
    const c = chainOf(es);
    const h1 = raftBlockHash(GENESIS_HASH, es[0]);
    expect(c.hashAt(0)).toBe(GENESIS_HASH);
    expect(c.hashAt(1)).toBe(h1);
    expect(c.head()).toEqual({ index: 3, hash: raftBlockHash(raftBlockHash(h1, es[1]), es[2]) });
    expect(c.hashAt(4)).toBeUndefined();
    expect(() => c.append(5, () => 'x')).toThrow(/appending 5 after 3/);
  });

  it('keeps a bounded window of recent hashes', () => {
    const es = Array.from({ length: 50 }, (_, i) => entry(i + 1, `v${i}`));
    const c = chainOf(es, 8);
    const full = chainOf(es);
    expect(c.head()).toEqual(full.head());
    expect(c.oldestIndex).toBeGreaterThanOrEqual(50 - 16);
    expect(c.hashAt(c.oldestIndex)).toBe(full.hashAt(c.oldestIndex));
    expect(c.hashAt(1)).toBeUndefined();
    for (let i = c.oldestIndex; i <= 50; i++) expect(c.hashAt(i)).toBe(full.hashAt(i));
  });

  it('resumes from a snapshot head exactly as the full chain does', () => {
    const es = Array.from({ length: 10 }, (_, i) => entry(i + 1, `v${i}`));
    const full = chainOf(es);
    const resumed = new LedgerChain(full.head() && { index: 6, hash: full.hashAt(6)! });
    for (const e of es.slice(6)) resumed.append(e.index, (prev) => raftBlockHash(prev, e));
    expect(resumed.head()).toEqual(full.head());
  });

  it('an unanchored chain (state from before the ledger) counts positions and has no head', () => {
    const c = new LedgerChain(null, 5);
    expect(c.append(6, () => 'x')).toBeNull();
    expect(c.head()).toBeNull();
    expect(c.lastIndex).toBe(6);
    expect(c.hashAt(6)).toBeUndefined();
  });
});

describe('recheckChain', () => {
  const es = Array.from({ length: 12 }, (_, i) => entry(i + 1, `v${i}`, 1 + Math.floor(i / 4)));
  const recorded = chainOf(es);
  const stored = (list: ReturnType<typeof entry>[]) => list.map((e) => ({ index: e.index, hashOf: (prev: string) => raftBlockHash(prev, e) }));

  it('finds an untouched store intact, with the recorded head', () => {
    const r = recheckChain({ index: 0, hash: GENESIS_HASH }, stored(es), 12, (i) => recorded.hashAt(i));
    expect(r).toEqual({ intact: true, index: 12, head: recorded.head()!.hash });
    // From a snapshot's head too, and only up to the applied index.
    const fromSnap = recheckChain({ index: 4, hash: recorded.hashAt(4)! }, stored(es.slice(4)), 9, (i) => recorded.hashAt(i));
    expect(fromSnap).toEqual({ intact: true, index: 9, head: recorded.hashAt(9) });
  });

  it('names the first stored entry changed after it was applied', () => {
    const tampered = es.map((e) => (e.index === 7 ? { ...e, data: new Uint8Array(Buffer.from('evil')) } : e));
    const r = recheckChain({ index: 0, hash: GENESIS_HASH }, stored(tampered), 12, (i) => recorded.hashAt(i));
    expect(r).toMatchObject({ intact: false, firstBadIndex: 7 });
    // A changed term is a change too.
    const reterm = es.map((e) => (e.index === 3 ? { ...e, term: 9 } : e));
    expect(recheckChain({ index: 0, hash: GENESIS_HASH }, stored(reterm), 12, (i) => recorded.hashAt(i))).toMatchObject({ intact: false, firstBadIndex: 3 });
  });

  it('a missing entry, a short log and a wrong snapshot head are all broken chains', () => {
    const gap = es.filter((e) => e.index !== 5);
    expect(recheckChain({ index: 0, hash: GENESIS_HASH }, stored(gap), 12, (i) => recorded.hashAt(i))).toMatchObject({ intact: false, firstBadIndex: 5 });
    expect(recheckChain({ index: 0, hash: GENESIS_HASH }, stored(es.slice(0, 8)), 12, (i) => recorded.hashAt(i))).toMatchObject({
      intact: false,
      firstBadIndex: 9,
    });
    expect(recheckChain({ index: 4, hash: '1'.repeat(64) }, stored(es.slice(4)), 12, (i) => recorded.hashAt(i))).toMatchObject({
      intact: false,
      firstBadIndex: 4,
    });
  });

  it('without recorded hashes it only recomputes (what a restarted replica can do)', () => {
    const tampered = es.map((e) => (e.index === 7 ? { ...e, data: new Uint8Array(Buffer.from('evil')) } : e));
    const r = recheckChain({ index: 0, hash: GENESIS_HASH }, stored(tampered), 12, () => undefined);
    expect(r.intact).toBe(true);
    expect(r.head).not.toBe(recorded.head()!.hash); // the head then disagrees with the other replicas'
  });
});

describe('ledger snapshot wrapper', () => {
  it('carries the head beside the app snapshot; old snapshots load with no head', () => {
    const app = new Uint8Array([1, 2, 3]);
    expect(unwrapSnapshot(wrapSnapshot(app, GENESIS_HASH))).toEqual({ app: Buffer.from(app), head: GENESIS_HASH });
    expect(unwrapSnapshot(wrapSnapshot(app, null)).head).toBeNull();
    expect(unwrapSnapshot(app)).toEqual({ app, head: null });
  });
});
