import { planNewView } from './certificates';
import { batchDigest, NULL_DIGEST } from './codec';
import { killsMutant, signedAs } from './testing/forge';
import { PbftHarness } from './testing/harness';
import type { ClientRequest, NewView, PrePrepare, Prepare, ReplicaId, ViewChange } from './types';

/**
 * The checks a backup makes of a NEW-VIEW (C&L §4.4): its sender is the new primary and signed it,
 * V holds 2f+1 signed, valid VIEW-CHANGEs for the view from distinct replicas, and O is exactly
 * what V dictates. Each test hands r3 a NEW-VIEW that breaks one of them, as a Byzantine new
 * primary (r1) or another replica could, and is run with that check's mutant too (forge.ts).
 */

/**
 * r0 orders one request that r1 and r2 prepare (r3 never sees its pre-prepare, every COMMIT is lost),
 * then crashes; r1..r3 change to view 1, whose primary r1 gets its NEW-VIEW nowhere. Returns the
 * cluster, r3 waiting in view 1, and the VIEW-CHANGEs for view 1 by sender.
 */
function newViewWithheld(): { h: PbftHarness; vcs: Map<ReplicaId, ViewChange>; request: ClientRequest } {
  const h = new PbftHarness({ requestTimeoutTicks: 20 });
  h.filter = (m) => m.msg.type !== 'Commit' && !(m.msg.type === 'PrePrepare' && m.to === 'r3');
  const request = h.request('client', 'a', 'x', 3);
  h.propose('r0', request);
  h.deliver();
  h.crash('r0');
  h.filter = (m) => m.msg.type !== 'NewView';
  for (const id of ['r1', 'r2', 'r3']) h.propose(id, request);
  h.deliver();
  const vcs = new Map<ReplicaId, ViewChange>();
  for (let i = 0; i < 100 && vcs.size < 3; i++) {
    h.tick();
    for (const m of h.sent) if (m.msg.type === 'ViewChange' && m.msg.view === 1 && m.msg.to === null) vcs.set(m.from, m.msg);
  }
  expect([...vcs.keys()].sort()).toEqual(['r1', 'r2', 'r3']);
  expect(h.replica('r3').status()).toMatchObject({ view: 1, viewChanging: true });
  return { h, vcs, request };
}

type Batch = { seq: number; requests: ClientRequest[] };

/** A NEW-VIEW for view 1 from `from` with V = `vcs` and O = `batches`, everything signed by `signer`. */
function newView(h: PbftHarness, from: ReplicaId, vcs: ViewChange[], batches: Batch[], signer: ReplicaId = from): NewView {
  const prePrepares = batches.map((b) =>
    signedAs<PrePrepare>(h, signer, { type: 'PrePrepare', from, to: null, view: 1, seq: b.seq, digest: batchDigest(b.requests), requests: b.requests }),
  );
  return signedAs<NewView>(h, signer, { type: 'NewView', from, to: null, view: 1, viewChanges: vcs, prePrepares });
}

/** O as V dictates. */
const planned = (vcs: ViewChange[]): Batch[] => planNewView(vcs).batches.map((b) => ({ seq: b.seq, requests: b.requests }));

/** Hands `nv` to r3: did it move into view 1, what did it drop, what did it prepare? */
function deliverTo3(h: PbftHarness, nv: NewView) {
  h.replica('r3').step(nv);
  h.collect('r3');
  const s = h.replica('r3').status();
  return {
    entered: s.view === 1 && !s.viewChanging,
    dropped: s.dropped,
    prepared: [...new Set(h.sent.filter((m) => m.from === 'r3' && m.msg.type === 'Prepare' && m.msg.view === 1).map((m) => (m.msg as Prepare).digest))],
  };
}

describe('PBFT NEW-VIEW checks (mutation testing, issue 10)', () => {
  it('the genuine NEW-VIEW is taken (the scenario the tests below break)', () => {
    const { h, vcs } = newViewWithheld();
    const v = [...vcs.values()];
    const o = deliverTo3(h, newView(h, 'r1', v, planned(v)));
    expect(o.entered).toBe(true);
    expect(o.prepared).toEqual([planNewView(v).batches[0].digest]);
    expect(planNewView(v).batches[0].digest).not.toBe(NULL_DIGEST);
  });

  it('a NEW-VIEW not signed by its sender is dropped', () => {
    killsMutant(
      'pbft.new-view.skip-signature',
      () => {
        const { h, vcs } = newViewWithheld();
        const v = [...vcs.values()];
        const { sig: _genuine, ...body } = newView(h, 'r1', v, planned(v));
        return deliverTo3(h, signedAs<NewView>(h, 'r2', body));
      },
      (o) => expect(o).toMatchObject({ entered: false, dropped: { 'bad-signature': 1 } }),
      (o) => expect(o.entered).toBe(true),
    );
  });

  it('a NEW-VIEW from a replica that is not the primary of its view is dropped', () => {
    killsMutant(
      'pbft.new-view.skip-primary-check',
      () => {
        const { h, vcs } = newViewWithheld();
        const v = [...vcs.values()];
        return deliverTo3(h, newView(h, 'r2', v, planned(v)));
      },
      (o) => expect(o).toMatchObject({ entered: false, dropped: { 'not-primary': 1 } }),
      (o) => expect(o.entered).toBe(true),
    );
  });

  it('a NEW-VIEW with f+1 VIEW-CHANGEs (not 2f+1) is dropped', () => {
    killsMutant(
      'pbft.new-view.skip-quorum',
      () => {
        const { h, vcs } = newViewWithheld();
        const v = [vcs.get('r1')!, vcs.get('r2')!];
        return deliverTo3(h, newView(h, 'r1', v, planned(v)));
      },
      (o) => expect(o).toMatchObject({ entered: false, dropped: { 'bad-new-view': 1 } }),
      (o) => expect(o.entered).toBe(true),
    );
  });

  it('a NEW-VIEW whose third VIEW-CHANGE is forged (in the name of the crashed r0) is dropped', () => {
    killsMutant(
      'pbft.new-view.skip-view-change-signatures',
      () => {
        const { h, vcs } = newViewWithheld();
        const { sig: _r1, ...r1 } = vcs.get('r1')!;
        const forged = signedAs<ViewChange>(h, 'r1', { ...r1, from: 'r0' });
        const v = [vcs.get('r1')!, vcs.get('r2')!, forged];
        return deliverTo3(h, newView(h, 'r1', v, planned(v)));
      },
      (o) => expect(o).toMatchObject({ entered: false, dropped: { 'bad-new-view': 1 } }),
      (o) => expect(o.entered).toBe(true),
    );
  });

  it('a NEW-VIEW whose O replaces a prepared batch by the null request is dropped (O is recomputed from V)', () => {
    killsMutant(
      'pbft.new-view.skip-recompute',
      () => {
        const { h, vcs } = newViewWithheld();
        const v = [...vcs.values()];
        expect(planned(v).map((b) => b.seq)).toEqual([1]);
        return deliverTo3(h, newView(h, 'r1', v, [{ seq: 1, requests: [] }]));
      },
      (o) => expect(o).toMatchObject({ entered: false, prepared: [], dropped: { 'bad-new-view': 1 } }),
      // The batch r1 and r2 prepared in view 0 (and may have committed) is replaced at r3.
      (o) => expect(o).toMatchObject({ entered: true, prepared: [NULL_DIGEST] }),
    );
  });
});
