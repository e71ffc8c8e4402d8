import type { ByzantineFilter } from '../byzantine';
import type { Checkpoint, Commit, FetchCommitted, FetchState, Forward, PbftMessage, PrePrepare, Prepare, Status, ViewChange } from '../types';
import { MAX_VIEW } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';
import { fakePreparedCertificate } from './proofs';

/** Messages per burst, one burst per status period of this replica: heavy for a replica, light for the simulator. */
export const FLOOD_BURST = 8;

/** What one flood message is. */
export type FloodKind =
  /** Prepares and commits for random in-window seqs of the current view, with digests no batch has. */
  | 'window-votes'
  /** Votes far above the high water mark. */
  | 'far-seq'
  /** Votes for views far ahead. */
  | 'high-view'
  /** A pre-prepare above MAX_VIEW (refused before its signature is checked). */
  | 'beyond-ceiling'
  /** Checkpoints for far-away seqs with garbage digests (each peer keeps a bounded number of open votes). */
  | 'far-checkpoints'
  /** A valid VIEW-CHANGE to a view far ahead (one per sender is kept, and f of them move nobody). */
  | 'view-change-high'
  /** A VIEW-CHANGE with a big P: L forged certificates of n prepares each, or lists longer than any correct replica sends. */
  | 'view-change-big'
  /** Status messages with random claims. */
  | 'status'
  /** Requests for committed batches and state (each answer can be large). */
  | 'fetch'
  /** Forwards of requests seen before (already executed, most of them). */
  | 'forward';

export const FLOOD_KINDS: readonly FloodKind[] = [
  'window-votes',
  'far-seq',
  'high-view',
  'beyond-ceiling',
  'far-checkpoints',
  'view-change-high',
  'view-change-big',
  'status',
  'fetch',
  'forward',
];

export function floodMessage(kit: Kit, know: Knowledge, kind: FloodKind): PbftMessage {
  const h = know.stable.seq;
  const L = know.logWindow;
  const K = know.checkpointInterval;
  // Just past a bound, or far past it.
  const big = (): number => kit.pick([1, 2, 3, 1_000, 1_000_000, 2 ** 40]);
  const vote = (type: 'Prepare' | 'Commit', view: number, seq: number): Prepare | Commit =>
    kit.sign<Prepare | Commit>({ type, from: kit.id, to: null, view, seq, digest: kit.garbage(), sig: UNSIGNED });
  const type = kit.chance(0.5) ? 'Prepare' : 'Commit';
  switch (kind) {
    case 'window-votes':
      return vote(type, know.view, h + 1 + kit.below(L));
    case 'far-seq':
      return vote(type, know.view, h + L + big());
    case 'high-view':
      return vote(type, Math.min(MAX_VIEW, know.view + big()), h + 1 + kit.below(L));
    case 'beyond-ceiling':
      return kit.sign<PrePrepare>({
        type: 'PrePrepare',
        from: kit.id,
        to: null,
        view: MAX_VIEW + 1,
        seq: h + 1,
        digest: kit.garbage(),
        requests: [],
        sig: UNSIGNED,
      });
    case 'far-checkpoints':
      return kit.sign<Checkpoint>({ type: 'Checkpoint', from: kit.id, to: null, seq: K * (Math.ceil(h / K) + big()), digest: kit.garbage(), sig: UNSIGNED });
    case 'view-change-high':
      return kit.sign<ViewChange>({
        type: 'ViewChange',
        from: kit.id,
        to: null,
        view: Math.min(MAX_VIEW, know.view + big()),
        stableSeq: h,
        checkpointProof: know.stable.proof,
        prepared: [],
        sig: UNSIGNED,
      });
    case 'view-change-big': {
      const view = know.view + 1;
      // Within the limits a correct replica could reach (n prepares, L certificates), or past them.
      const over = kit.chance(0.3) ? 1 : 0;
      const prepared = Array.from({ length: Math.min(L + over, 33) }, (_, i) => {
        const cert = fakePreparedCertificate(kit, know, h + 1 + i, Math.max(0, view - 1), 'fake-prepares');
        const prepares = Array.from({ length: kit.n + over }, (_x, j) => cert.prepares[j % cert.prepares.length]);
        return { ...cert, prepares };
      });
      return kit.sign<ViewChange>({
        type: 'ViewChange',
        from: kit.id,
        to: null,
        view,
        stableSeq: h,
        checkpointProof: know.stable.proof,
        prepared,
        sig: UNSIGNED,
      });
    }
    case 'status':
      return kit.sign<Status>({
        type: 'Status',
        from: kit.id,
        to: null,
        view: know.view + kit.below(2),
        active: kit.chance(0.5),
        stableSeq: kit.below(h + 1),
        lastExecuted: h + kit.below(2 * L),
        slots: Array.from({ length: kit.below(L) }, () => kit.below(8)),
        sig: UNSIGNED,
      });
    case 'fetch':
      return kit.chance(0.5)
        ? kit.sign<FetchCommitted>({ type: 'FetchCommitted', from: kit.id, to: null, after: Math.max(0, h - kit.below(2) * K), sig: UNSIGNED })
        : kit.sign<FetchState>({ type: 'FetchState', from: kit.id, to: null, seq: kit.pick([0, h]), sig: UNSIGNED });
    case 'forward': {
      const requests = Array.from({ length: Math.min(8, know.requests.length) }, () => kit.pick(know.requests));
      return kit.sign<Forward>({ type: 'Forward', from: kit.id, to: kit.primaryOf(know.view), view: know.view, requests, sig: UNSIGNED });
    }
  }
}

/**
 * flood: on top of its core's messages, a burst of valid-looking messages each status period —
 * votes for every corner of the window and far beyond it, views far ahead, big certificates,
 * checkpoints, fetches and forwards. Bounded (FLOOD_BURST a period), so the simulator stays fast;
 * what it tests is that none of it costs a correct replica more than the bounds it keeps.
 */
export function floodStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  return {
    behavior: 'flood',
    observe: (m) => know.see(m),
    messages(out) {
      const res: PbftMessage[] = [];
      for (const m of out) {
        know.see(m);
        res.push(m);
        if (m.type === 'Status' && m.from === kit.id) for (let i = 0; i < FLOOD_BURST; i++) res.push(floodMessage(kit, know, kit.pick(FLOOD_KINDS)));
      }
      return res;
    },
    replies: (out) => out,
  };
}
