import type { ByzantineFilter } from '../byzantine';
import type { Checkpoint, PbftMessage, ReplicaId, Status, ViewChange } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';

/**
 * impersonate: once a status period, messages in other replicas' names (signed with this
 * replica's own key, so only the envelope's signature check stops them) that would each do
 * damage if believed:
 *  - CHECKPOINTs from 2f+1 replicas for the next checkpoint with a digest no state has: a stable
 *    checkpoint nobody can serve (or a correct replica's own state declared diverged);
 *  - VIEW-CHANGEs from f+1 replicas for the next view with an empty P: a view change nobody
 *    correct asked for (the f+1 join rule), and a V in which committed seqs have no certificate;
 *  - STATUS messages from each peer claiming it is far ahead: catch-up requests to nowhere.
 */
export function impersonateStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  const names = (k: number): ReplicaId[] => [kit.id, ...kit.others].slice(0, k);
  const burst = (): PbftMessage[] => {
    const K = know.checkpointInterval;
    const seq = (Math.floor(know.stable.seq / K) + 1 + (kit.chance(0.3) ? Math.floor(know.logWindow / K) : 0)) * K;
    const digest = kit.garbage();
    const checkpoints = names(2 * kit.f + 1).map((from) => kit.sign<Checkpoint>({ type: 'Checkpoint', from, to: null, seq, digest, sig: UNSIGNED }));
    const view = know.view + 1;
    const viewChanges = names(kit.f + 2).map((from) =>
      kit.sign<ViewChange>({
        type: 'ViewChange',
        from,
        to: null,
        view,
        stableSeq: know.stable.seq,
        checkpointProof: know.stable.proof,
        prepared: [],
        sig: UNSIGNED,
      }),
    );
    const statuses = kit.others.map((from) =>
      kit.sign<Status>({
        type: 'Status',
        from,
        to: null,
        view: know.view,
        active: true,
        stableSeq: know.stable.seq,
        lastExecuted: know.maxSeq + know.logWindow,
        slots: [],
        sig: UNSIGNED,
      }),
    );
    return [...checkpoints, ...viewChanges, ...statuses];
  };
  return {
    behavior: 'impersonate',
    observe: (m) => know.see(m),
    messages(out) {
      const res: PbftMessage[] = [];
      for (const m of out) {
        know.see(m);
        res.push(m);
        if (m.type === 'Status' && m.from === kit.id && m.to === null) res.push(...burst());
      }
      return res;
    },
    replies: (out) => out,
  };
}
