import { encodeRequest } from '../../kv';
import type { KvRequest, KvResult } from '../../kv/types';
import type { Entry, Role } from '../../raft/types';
import { RaftInvariants, type StatusView } from './invariants';

function status(id: string, role: Role, term: number, log: Entry[], commitIndex = 0, snapshotIndex = 0): StatusView {
  return { id, role, term, leader: role === 'leader' ? id : null, commitIndex, appliedIndex: 0, lastIndex: snapshotIndex + log.length, snapshotIndex };
}

function e(index: number, term: number, data: number | null = null): Entry {
  return { index, term, type: data === null ? 'noop' : 'normal', data: data === null ? null : Uint8Array.of(data) };
}

function put(id: string, key: string, value: string): KvRequest {
  return { id, ts: 0, cmd: { op: 'put', key, value } };
}

function entryFor(index: number, term: number, req: KvRequest): Entry {
  return { index, term, type: 'normal', data: encodeRequest(req) };
}

describe('RaftInvariants', () => {
  let inv: RaftInvariants;
  beforeEach(() => {
    inv = new RaftInvariants(() => 'seed=9 step=1 t=0.00');
  });

  it('names the invariant, the seed, the step and the nodes', () => {
    inv.observe(status('n1', 'leader', 2, []), []);
    expect(() => inv.observe(status('n2', 'leader', 2, []), [])).toThrow(/^election-safety: seed=9 step=1 t=0\.00 nodes=n1,n2: two leaders in term 2$/);
  });

  it('allows one leader per term, across terms', () => {
    inv.observe(status('n1', 'leader', 2, []), []);
    inv.observe(status('n1', 'leader', 2, []), []);
    inv.observe(status('n2', 'leader', 3, []), []);
  });

  it('log matching: the same index and term must hold the same entry', () => {
    inv.observe(status('n1', 'follower', 2, [e(1, 1, 7)]), [e(1, 1, 7)]);
    inv.observe(status('n2', 'follower', 2, [e(1, 1, 7)]), [e(1, 1, 7)]);
    expect(() => inv.observe(status('n3', 'follower', 2, [e(1, 1, 8)]), [e(1, 1, 8)])).toThrow(/^log-matching: .*two different entries at index 1 term 1/);
  });

  it('log matching: the same index and term must follow the same prefix', () => {
    const a = [e(1, 1), e(2, 3)];
    const b = [e(1, 2), e(2, 3)];
    inv.observe(status('n1', 'follower', 3, a), a);
    expect(() => inv.observe(status('n2', 'follower', 3, b), b)).toThrow(/^log-matching: .*entry 2\/3 follows term 1 on n1 but term 2 on n2/);
  });

  it('log matching: terms never go down along a log', () => {
    const a = [e(1, 2), e(2, 1)];
    expect(() => inv.observe(status('n1', 'follower', 3, a), a)).toThrow(/^log-matching: .*term goes down at index 2/);
  });

  it('commits never go back within one incarnation, and may after a restart', () => {
    const log = [e(1, 1), e(2, 1)];
    inv.observe(status('n1', 'follower', 1, log, 2), log);
    expect(() => inv.observe(status('n1', 'follower', 1, log, 1), log)).toThrow(/^commit-monotonic:/);
    inv.nodeRestarted('n1');
    inv.observe(status('n1', 'follower', 1, log, 1), log);
  });

  it('state-machine safety: two nodes never commit different entries at one index', () => {
    const a = [e(1, 1), e(2, 2)];
    const b = [e(1, 1), e(2, 3)];
    inv.observe(status('n1', 'follower', 2, a, 2), a);
    expect(() => inv.observe(status('n2', 'follower', 3, b, 2), b)).toThrow(/^state-machine-safety: .*index 2 committed with term 2 on n1 but term 3 on n2/);
  });

  it('leader completeness: a later leader must hold every committed entry', () => {
    const a = [e(1, 1), e(2, 2)];
    inv.observe(status('n1', 'leader', 2, a, 2), a);
    const b = [e(1, 1)];
    expect(() => inv.observe(status('n2', 'leader', 3, b, 1), b)).toThrow(/^leader-completeness: .*nodes=n2,n1: leader of term 3 has nothing at index 2/);
  });

  it('leader completeness does not bind a stale leader of the term that committed', () => {
    const a = [e(1, 1), e(2, 3)];
    inv.observe(status('n1', 'follower', 3, a, 2), a);
    const stale = [e(1, 1)];
    inv.observe(status('n2', 'leader', 2, stale, 1), stale);
  });

  it('leader completeness ignores what a snapshot covers', () => {
    const a = [e(1, 1), e(2, 1), e(3, 2)];
    inv.observe(status('n1', 'leader', 2, a, 3), a);
    const b = [e(3, 2), e(4, 3)];
    inv.observe(status('n2', 'leader', 3, b, 3, 2), b, 1);
  });

  it('a snapshot must end with the committed entry at its index', () => {
    const a = [e(1, 1), e(2, 1), e(3, 2)];
    inv.observe(status('n1', 'leader', 2, a, 3), a);
    expect(() => inv.observe(status('n2', 'follower', 3, [], 2, 2), [], 2)).toThrow(
      /^state-machine-safety: .*snapshot of n2 ends at 2\/2, but 2 was committed with term 1/,
    );
  });

  it('log matching holds across a snapshot boundary', () => {
    const a = [e(1, 1), e(2, 1), e(3, 2)];
    inv.observe(status('n1', 'follower', 2, a), a);
    // n2 compacted 1..2 with a snapshot claiming term 2 at index 2: entry 3/2 now follows term 2, not 1.
    expect(() => inv.observe(status('n2', 'follower', 2, [e(3, 2)], 0, 2), [e(3, 2)], 2)).toThrow(
      /^log-matching: .*entry 3\/2 follows term 1 on n1 but term 2 on n2/,
    );
  });

  it('state-machine safety: every replica applies the same entry at an index', () => {
    const r1 = put('c1-1', 'k', 'a');
    const r2 = put('c2-1', 'k', 'b');
    const res = (value: string): KvResult => ({ op: 'put', key: 'k', value, revision: 1 });
    inv.observeApply('n1', entryFor(1, 1, r1), r1, res('a'), () => 'd');
    inv.observeApply('n2', entryFor(1, 1, r1), r1, res('a'), () => 'd');
    expect(() => inv.observeApply('n3', entryFor(1, 2, r2), r2, res('b'), () => 'd')).toThrow(/^state-machine-safety: .*index 1: n1 applied term 1/);
  });

  it('state-machine safety: no replica applies an index no one has reached', () => {
    const r = put('c1-1', 'k', 'a');
    expect(() => inv.observeApply('n1', entryFor(2, 1, r), r, { op: 'put', key: 'k', value: 'a', revision: 2 }, () => 'd')).toThrow(
      /^state-machine-safety: .*applied index 2 while no replica has applied 1/,
    );
  });

  it('state-machine safety: digests at equal applied indices match', () => {
    for (let i = 1; i <= 8; i++) inv.observeApply('n1', e(i, 1), null, null, () => 'same');
    for (let i = 1; i <= 7; i++) inv.observeApply('n2', e(i, 1), null, null, () => 'never asked');
    expect(() => inv.observeApply('n2', e(8, 1), null, null, () => 'other')).toThrow(/^state-machine-safety: .*KV digests differ at applied index 8/);
  });

  it('exactly-once: a retried request must answer its first result, not apply again', () => {
    const first = { id: 'c1-1', ts: 0, cmd: { op: 'cas', key: 'k', expected: null, value: 'a' } } as const;
    inv.observeApply('n1', entryFor(1, 1, first), first, { op: 'cas', key: 'k', succeeded: true, value: 'a', revision: 1 }, () => 'd');
    // The duplicate entry at 2 must return the result of 1; a second execution fails the cas.
    expect(() => inv.observeApply('n1', entryFor(2, 1, first), first, { op: 'cas', key: 'k', succeeded: false, value: 'a', revision: 2 }, () => 'd')).toThrow(
      /^exactly-once: .*request c1-1 at 2/,
    );
  });

  it('the reference model answers reads at any past revision', () => {
    const r1 = put('c1-1', 'k', 'a');
    const r2 = put('c1-2', 'k', 'b');
    inv.observeApply('n1', entryFor(1, 1, r1), r1, { op: 'put', key: 'k', value: 'a', revision: 1 }, () => 'd');
    inv.observeApply('n1', e(2, 1), null, null, () => 'd');
    inv.observeApply('n1', entryFor(3, 1, r2), r2, { op: 'put', key: 'k', value: 'b', revision: 3 }, () => 'd');
    expect(inv.model.valueAt('k', 0)).toBeNull();
    expect(inv.model.valueAt('k', 2)).toBe('a');
    expect(inv.model.valueAt('k', 3)).toBe('b');
    expect(inv.appliedLast).toBe(3);
  });
});
