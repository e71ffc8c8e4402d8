import { signingPayload } from './codec';
import { PbftHarness } from './testing/harness';
import { MemoryPbftStorage } from './testing/memory-storage';
import { MAX_VIEW, type PbftFaults, type Prepare, type ReplicaId, type ViewChange } from './types';

/** A cluster whose replicas all restart from a stored hard state in `view` (active, nothing logged). */
function restoredAt(view: number, faults?: PbftFaults): PbftHarness {
  const h = new PbftHarness({ requestTimeoutTicks: 20, faults });
  for (const id of h.ids) {
    h.crash(id);
    const disk = new MemoryPbftStorage();
    disk.apply({
      hardState: { view, active: true, lowWaterMark: { seq: 0, proof: [] } },
      newView: null,
      entries: [],
      stableCheckpoint: null,
      messages: [],
      replies: [],
      executed: [],
      fatal: null,
    });
    h.storage.set(id, disk);
    h.restart(id);
  }
  return h;
}

/** A message signed with a member's real key: what a Byzantine replica (or a leaked key) can send. */
function signedBy<M extends ViewChange | Prepare>(h: PbftHarness, m: Omit<M, 'sig'>): M {
  return { ...m, sig: h.keyring.cryptoFor(m.from).sign(signingPayload(m as M)) } as M;
}

const viewChange = (h: PbftHarness, from: ReplicaId, view: number): ViewChange =>
  signedBy<ViewChange>(h, { type: 'ViewChange', from, to: null, view, stableSeq: 0, checkpointProof: [], prepared: [] });

const viewChangesAbove = (h: PbftHarness, view: number) => h.sent.filter((m) => m.msg.type === 'ViewChange' && m.msg.view > view);

/** The primary falls silent; the client retries at every other replica; everyone ticks `rounds` times. */
function losePrimary(h: PbftHarness, primary: ReplicaId, rid: string, rounds: number): void {
  h.crash(primary);
  const req = h.request('client', rid, 'x', 1);
  for (const id of h.ids) if (id !== primary) h.propose(id, req);
  h.deliver();
  h.tick(rounds);
}

describe('PBFT view ceiling (MAX_VIEW)', () => {
  it('keeps MAX_VIEW + 1 exact and signable', () => {
    expect(MAX_VIEW).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(Number.isSafeInteger(MAX_VIEW + 1)).toBe(true);
  });

  /** f+1 = 2 signed VIEW-CHANGEs for a view above the ceiling: the join rule would take it (more than f faulty). */
  function joinAboveCeiling(faults?: PbftFaults) {
    const h = new PbftHarness({ faults });
    for (const from of ['r2', 'r3']) h.inject(from, 'r0', viewChange(h, from, MAX_VIEW + 1));
    h.inject('r3', 'r0', signedBy<Prepare>(h, { type: 'Prepare', from: 'r3', to: null, view: MAX_VIEW + 1, seq: 1, digest: 'd' }));
    h.deliver();
    return h;
  }

  it('drops any signed message whose view is above the ceiling, counted as view-beyond-ceiling, and carries on', () => {
    const h = joinAboveCeiling();
    const s = h.replica('r0').status();
    expect(s).toMatchObject({ view: 0, viewChanging: false, fatal: null });
    expect(s.dropped['view-beyond-ceiling']).toBe(3);
    const req = h.request('client', 'a', 'x', 2);
    h.propose('r0', req);
    h.tick(3);
    for (const id of h.ids) expect(h.apps.get(id)!.value('x')).toBe(2);
  });

  it('canary: without the ceiling the same two VIEW-CHANGEs drag a correct replica to view 2^53-1', () => {
    const h = joinAboveCeiling({ skipViewCeiling: true });
    expect(h.replica('r0').status()).toMatchObject({ view: Number.MAX_SAFE_INTEGER, viewChanging: true, fatal: null });
  });

  it('a replica restored at MAX_VIEW reports view-exhausted once, still works in that view, and never changes view', () => {
    const h = restoredAt(MAX_VIEW);
    for (const id of h.ids) expect(h.fatals.get(id)).toEqual([{ reason: 'view-exhausted', view: MAX_VIEW }]);
    const primary = h.replica('r0').status().primary;
    expect(primary).toBe('r2'); // MAX_VIEW % 4
    h.propose(primary, h.request('client', 'a', 'x', 5));
    h.tick(3);
    for (const id of h.ids) expect(h.apps.get(id)!.value('x')).toBe(5);

    losePrimary(h, primary, 'b', 300); // fifteen request timeouts
    expect(viewChangesAbove(h, MAX_VIEW)).toEqual([]);
    for (const id of h.ids.filter((x) => x !== primary)) {
      expect(h.replica(id).status()).toMatchObject({ view: MAX_VIEW, fatal: { reason: 'view-exhausted', view: MAX_VIEW } });
      expect(h.fatals.get(id)).toHaveLength(1); // once, not at every timeout
      expect(h.storage.get(id)!.load().hardState.view).toBe(MAX_VIEW);
    }
  });

  it('the last view is still usable: a view change from MAX_VIEW - 1 installs MAX_VIEW, executes, and reports the ceiling', () => {
    const h = restoredAt(MAX_VIEW - 1);
    for (const id of h.ids) expect(h.fatals.get(id)).toEqual([]);
    const primary = h.replica('r0').status().primary;
    losePrimary(h, primary, 'c', 100);
    for (const id of h.ids.filter((x) => x !== primary)) {
      expect(h.replica(id).status()).toMatchObject({ view: MAX_VIEW, viewChanging: false, lastExecuted: 1 });
      expect(h.apps.get(id)!.value('x')).toBe(1);
      expect(h.fatals.get(id)).toEqual([{ reason: 'view-exhausted', view: MAX_VIEW }]);
    }
  });

  /** A view stored before the ceiling existed, at 2^53-1: the next view change would need 2^53. */
  function storedAboveCeiling(faults?: PbftFaults) {
    const h = restoredAt(Number.MAX_SAFE_INTEGER, faults);
    losePrimary(h, h.replica('r0').status().primary, 'd', 100);
    return h;
  }

  it('a replica restored above the ceiling reports view-exhausted and never tries a view change', () => {
    const h = storedAboveCeiling();
    expect(viewChangesAbove(h, Number.MAX_SAFE_INTEGER)).toEqual([]);
    for (const id of ['r0', 'r1', 'r2']) {
      expect(h.replica(id).status()).toMatchObject({ view: Number.MAX_SAFE_INTEGER, fatal: { reason: 'view-exhausted', view: Number.MAX_SAFE_INTEGER } });
      expect(h.fatals.get(id)).toHaveLength(1);
    }
  });

  it('canary: without the ceiling that replica tries view 2^53, which cannot even be signed (a crash at every timeout)', () => {
    expect(() => storedAboveCeiling({ skipViewCeiling: true })).toThrow(/not a non-negative integer: 9007199254740992/);
  });
});
