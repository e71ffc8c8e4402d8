import type { ByzantineFilter } from '../byzantine';
import { planNewView } from '../certificates';
import { batchDigest } from '../codec';
import type { ClientRequest, NewView, PbftMessage, PreparedCertificate, PrePrepare, ViewChange } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';
import { conflictingBatch, forgeViewChange } from './proofs';

/** How a NEW-VIEW lies. */
export type NewViewLie =
  /** O orders other batches than V implies (null for a prepared batch, a replayed request for a null one). */
  | 'reassign'
  /** O leaves out a sequence number V implies. */
  | 'skip'
  /** O goes past max-s with a request seen before (a replay at a fresh seq). */
  | 'extend'
  /** V has 2f view-changes, not 2f+1 (its own thinned, the others those with the fewest certificates); O follows V. */
  | 'small-v'
  /** V holds this replica's own VIEW-CHANGE with a forged P or C (first, so its certificates win ties); O follows V. */
  | 'forged-v'
  /** V holds the other replicas' VIEW-CHANGEs thinned (their signatures no longer match); O follows V. */
  | 'tampered-v'
  /** V is this replica's own thinned VIEW-CHANGE 2f+1 times; O follows V. */
  | 'duplicate-v';

export const NEW_VIEW_LIES: readonly NewViewLie[] = ['reassign', 'skip', 'extend', 'small-v', 'forged-v', 'tampered-v', 'duplicate-v'];

function prePrepareFor(kit: Kit, view: number, seq: number, requests: ClientRequest[]): PrePrepare {
  return kit.sign<PrePrepare>({ type: 'PrePrepare', from: kit.id, to: null, view, seq, digest: batchDigest(requests), requests, sig: UNSIGNED });
}

/**
 * A VIEW-CHANGE with one prepared certificate only: the highest-seq one found anywhere in V
 * (certificates are self-verifying, so any replica may carry one). From such a V alone, O is
 * the null request at every seq below it: seqs that committed are then re-ordered as null.
 * Signed by this replica, it is even valid: only quorum intersection with the others' P saves O.
 */
function thinned(kit: Kit, vc: ViewChange, all: ViewChange[], resign: boolean): ViewChange {
  let top: PreparedCertificate | null = null;
  for (const x of all)
    for (const c of x.prepared)
      if (top === null || c.prePrepare.seq > top.prePrepare.seq || (c.prePrepare.seq === top.prePrepare.seq && c.prePrepare.view > top.prePrepare.view))
        top = c;
  const prepared = top !== null && top.prePrepare.seq > vc.stableSeq ? [top] : [];
  const thin = { ...vc, prepared };
  return resign ? kit.sign(thin) : thin;
}

/** O exactly as a backup recomputes it from V: a lie in V alone must be caught by the checks on V. */
function withViewChanges(kit: Kit, nv: NewView, viewChanges: ViewChange[]): NewView {
  const prePrepares = planNewView(viewChanges).batches.map((b) => prePrepareFor(kit, nv.view, b.seq, b.requests));
  return kit.sign({ ...nv, viewChanges, prePrepares });
}

export function forgeNewView(kit: Kit, know: Knowledge, nv: NewView, lie: NewViewLie): NewView {
  const O = nv.prePrepares;
  const own = nv.viewChanges.find((vc) => vc.from === kit.id) ?? nv.viewChanges[0];
  switch (lie) {
    case 'reassign':
      return kit.sign({ ...nv, prePrepares: O.map((pp) => prePrepareFor(kit, nv.view, pp.seq, conflictingBatch(kit, know, pp))) });
    case 'skip': {
      if (O.length === 0) return forgeNewView(kit, know, nv, 'extend');
      const real = O.filter((pp) => pp.requests.length > 0);
      const gone = real.length > 0 ? kit.pick(real) : kit.pick(O);
      return kit.sign({ ...nv, prePrepares: O.filter((pp) => pp !== gone) });
    }
    case 'extend': {
      const next = (O.length > 0 ? O[O.length - 1].seq : Math.max(...nv.viewChanges.map((vc) => vc.stableSeq))) + 1;
      const replay = know.requests.length > 0 ? [kit.pick(know.requests)] : [];
      return kit.sign({ ...nv, prePrepares: [...O, prePrepareFor(kit, nv.view, next, replay)] });
    }
    case 'small-v': {
      const others = nv.viewChanges.filter((vc) => vc !== own).sort((x, y) => x.prepared.length - y.prepared.length);
      return withViewChanges(kit, nv, [thinned(kit, own, nv.viewChanges, true), ...others].slice(0, 2 * kit.f));
    }
    case 'forged-v': {
      // A certificate lie (not a checkpoint one): the forged P must shape O.
      let forged = forgeViewChange(kit, know, own);
      for (let i = 0; i < 4 && forged.prepared.length === 0 && forged.stableSeq === own.stableSeq; i++) forged = forgeViewChange(kit, know, own);
      return withViewChanges(kit, nv, [forged, ...nv.viewChanges.filter((vc) => vc !== own)]);
    }
    case 'tampered-v':
      return withViewChanges(
        kit,
        nv,
        nv.viewChanges.map((vc) => thinned(kit, vc, nv.viewChanges, vc === own)),
      );
    case 'duplicate-v': {
      const thin = thinned(kit, own, nv.viewChanges, true);
      return withViewChanges(
        kit,
        nv,
        Array.from({ length: 2 * kit.f + 1 }, () => thin),
      );
    }
  }
}

/**
 * forge-new-view: as the new primary, a NEW-VIEW whose V or O is not what it should be. Each
 * (re)transmission of a view's NEW-VIEW (its core resends it to replicas still changing view)
 * tells the next lie of a shuffled list: one view change tries them all.
 */
export function forgeNewViewStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  const sent = new Map<number, { lies: NewViewLie[]; next: number }>();
  return {
    behavior: 'forge-new-view',
    observe: (m) => know.see(m),
    messages(out) {
      return out.map((m): PbftMessage => {
        know.see(m);
        if (m.type !== 'NewView' || m.from !== kit.id) return m;
        let s = sent.get(m.view);
        if (s === undefined) {
          const lies = [...NEW_VIEW_LIES];
          for (let i = lies.length - 1; i > 0; i--) {
            const j = kit.below(i + 1);
            [lies[i], lies[j]] = [lies[j], lies[i]];
          }
          s = { lies, next: 0 };
          sent.set(m.view, s);
          if (sent.size > 8) sent.delete(sent.keys().next().value!);
        }
        const lie = s.lies[s.next++ % s.lies.length];
        return { ...forgeNewView(kit, know, m, lie), to: m.to };
      });
    },
    replies: (out) => out,
  };
}
