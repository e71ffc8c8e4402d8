import type { ByzantineFilter } from '../byzantine';
import { planNewView } from '../certificates';
import type { NewView, PbftMessage, PrePrepare, ReplicaId, ViewChange } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';
import { blankViewChange, forgeViewChange } from './proofs';

/**
 * forge-view-change: every VIEW-CHANGE this replica sends lies about P or C (see proofs.ts), and
 * it sends one for each new view it hears of at once, before its core would: the new primary
 * takes the first 2f+1 it receives, so an early lie is the one that gets into V.
 */
export function forgeViewChangeStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  let forgedFor = 0;
  let heardOf = 0;
  return {
    behavior: 'forge-view-change',
    observe(m) {
      know.see(m);
      // (A view far beyond its own is another liar's: nobody will move there.)
      if (m.type === 'ViewChange' && m.view > heardOf && m.view <= know.view + kit.n) heardOf = m.view;
    },
    messages(out) {
      const res: PbftMessage[] = [];
      for (const m of out) {
        know.see(m);
        if (m.type === 'ViewChange' && m.from === kit.id) {
          forgedFor = Math.max(forgedFor, m.view);
          res.push(forgeViewChange(kit, know, m));
        } else res.push(m);
      }
      if (heardOf > forgedFor) {
        forgedFor = heardOf;
        res.push(forgeViewChange(kit, know, blankViewChange(kit, know, heardOf)));
      }
      return res;
    },
    replies: (out) => out,
  };
}

/**
 * A VIEW-CHANGE that is valid and still not what this replica's core said: a Byzantine replica
 * may "forget" prepared certificates (drop some of P) or claim an older stable checkpoint it
 * has a genuine proof for. Both pass every check; only quorum intersection keeps O safe.
 */
export function otherValidViewChange(kit: Kit, know: Knowledge, vc: ViewChange): ViewChange {
  const stale = know.staleProofs.filter((p) => p.seq < vc.stableSeq);
  if (stale.length > 0 && kit.chance(0.3)) {
    const p = kit.pick(stale);
    // Certificates between the stale checkpoint and the real one were garbage-collected: P only has those above.
    return kit.sign({ ...vc, stableSeq: p.seq, checkpointProof: p.proof });
  }
  return kit.sign({ ...vc, prepared: vc.prepared.filter(() => kit.chance(0.4)) });
}

/**
 * The NEW-VIEW built from another valid V: this replica's own VIEW-CHANGE swapped for another
 * valid one (so O may differ), O recomputed from it exactly as a backup will check it.
 */
export function otherValidNewView(kit: Kit, know: Knowledge, nv: NewView): NewView {
  const viewChanges = nv.viewChanges.map((vc) => (vc.from === kit.id ? otherValidViewChange(kit, know, vc) : vc));
  const plan = planNewView(viewChanges);
  const prePrepares = plan.batches.map((b) =>
    kit.sign<PrePrepare>({ type: 'PrePrepare', from: kit.id, to: null, view: nv.view, seq: b.seq, digest: b.digest, requests: b.requests, sig: UNSIGNED }),
  );
  return kit.sign({ ...nv, viewChanges, prePrepares });
}

/**
 * equivocate-view-change: different VIEW-CHANGEs (and, as the new primary, different NEW-VIEWs)
 * to different replicas, all of them valid. The same two stories on every retransmission.
 */
export function equivocateViewChangeStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  const groupB = new Set(kit.others.filter(() => kit.chance(0.5)));
  if (groupB.size === 0) groupB.add(kit.others[kit.others.length - 1]);
  const altViewChange = new Map<number, ViewChange>();
  const altNewView = new Map<number, NewView>();
  const split = (m: PbftMessage, alt: PbftMessage): PbftMessage[] =>
    kit.recipients(m).map((r: ReplicaId) => (groupB.has(r) ? { ...alt, to: r } : { ...m, to: r }));
  return {
    behavior: 'equivocate-view-change',
    observe: (m) => know.see(m),
    messages(out) {
      const res: PbftMessage[] = [];
      for (const m of out) {
        know.see(m);
        if (m.type === 'ViewChange' && m.from === kit.id) {
          if (!altViewChange.has(m.view)) altViewChange.set(m.view, otherValidViewChange(kit, know, m));
          res.push(...split(m, altViewChange.get(m.view)!));
        } else if (m.type === 'NewView' && m.from === kit.id) {
          if (!altNewView.has(m.view)) altNewView.set(m.view, otherValidNewView(kit, know, m));
          res.push(...split(m, altNewView.get(m.view)!));
        } else res.push(m);
      }
      return res;
    },
    replies: (out) => out,
  };
}
