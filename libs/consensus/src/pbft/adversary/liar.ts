import type { ByzantineFilter } from '../byzantine';
import { batchDigest } from '../codec';
import type { Checkpoint, Commit, CommitCertificate, CommittedBatches, PbftMessage, ReplicaId, StateTransfer, Status } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';
import { conflictingBatch } from './proofs';

/** How a STATUS message lies (the paper's status messages drive retransmission and catch-up). */
export type StatusLie =
  /** Claims to have executed far more than anyone: peers behind it ask it for committed batches. */
  | 'ahead'
  /** Claims to have nothing: peers resend checkpoints, proofs and votes (amplification). */
  | 'behind'
  /** Claims every slot committed: peers resend it nothing. */
  | 'claims-all'
  /** Claims an older view: peers resend their NEW-VIEW. */
  | 'old-view'
  /** Claims to be changing view when it is not, or the reverse. */
  | 'flip-active';

export const STATUS_LIES: readonly StatusLie[] = ['ahead', 'behind', 'claims-all', 'old-view', 'flip-active'];

/**
 * How a state-transfer answer lies. Most keep a genuine proof around a state that is not the
 * certified one; `relabelled` is a genuine older state (it reproduces its own digest) under a
 * later seq with a forged proof; `stale` is a genuine older state with its genuine proof, for a
 * replica that already executed past it.
 */
export type StateLie = 'stale-snapshot' | 'corrupt-snapshot' | 'wrong-position' | 'foreign-proof' | 'relabelled' | 'stale';

export const STATE_LIES: readonly StateLie[] = ['stale-snapshot', 'corrupt-snapshot', 'wrong-position', 'foreign-proof', 'relabelled', 'stale'];

export function lieInStatus(kit: Kit, know: Knowledge, s: Status, lie: StatusLie): Status {
  switch (lie) {
    case 'ahead':
      return kit.sign({ ...s, lastExecuted: Math.max(s.lastExecuted, know.maxSeq) + know.logWindow, slots: [] });
    case 'behind':
      return kit.sign({ ...s, stableSeq: 0, lastExecuted: 0, slots: [] });
    case 'claims-all':
      return kit.sign({ ...s, slots: Array.from({ length: know.logWindow }, () => 7) });
    case 'old-view':
      return kit.sign({ ...s, view: Math.max(0, s.view - 1) });
    case 'flip-active':
      return kit.sign({ ...s, active: !s.active });
  }
}

export function lieInState(kit: Kit, know: Knowledge, st: StateTransfer, lie: StateLie): StateTransfer {
  switch (lie) {
    case 'stale-snapshot': {
      const older = know.states.find((x) => x.seq < st.seq && x.snapshot.length > 0);
      if (older !== undefined) return kit.sign({ ...st, snapshot: older.snapshot });
      return lieInState(kit, know, st, 'corrupt-snapshot');
    }
    case 'corrupt-snapshot': {
      const snapshot = st.snapshot.length > 0 ? st.snapshot.map((b, i) => (i === st.snapshot.length >> 1 ? b ^ 0x5a : b)) : new Uint8Array([7, 7, 7]);
      return kit.sign({ ...st, snapshot });
    }
    case 'wrong-position':
      return kit.sign({ ...st, position: st.position + 1 });
    case 'foreign-proof': {
      const other = know.staleProofs.find((p) => p.seq !== st.seq);
      if (other !== undefined) return kit.sign({ ...st, proof: other.proof });
      return lieInState(kit, know, st, 'wrong-position');
    }
    case 'relabelled': {
      const old = know.states.find((x) => x.seq < st.seq) ?? st;
      const K = know.checkpointInterval;
      const seq = Math.max(st.seq, know.stable.seq, know.maxSeq - (know.maxSeq % K)) + K;
      const proof = [kit.id, ...kit.others]
        .slice(0, 2 * kit.f + 1)
        .map((from) => kit.sign<Checkpoint>({ type: 'Checkpoint', from, to: null, seq, digest: old.digest, sig: UNSIGNED }));
      return kit.sign({ ...old, from: kit.id, to: st.to, seq, proof });
    }
    case 'stale': {
      const old = know.states.find((x) => x.seq < st.seq);
      return old !== undefined ? { ...old, to: st.to } : lieInState(kit, know, st, 'relabelled');
    }
  }
}

/**
 * A State answer for a state this replica may not have: a lie about a state seen before, or the
 * best genuine proof known around a made-up snapshot.
 */
function unfoundedState(kit: Kit, know: Knowledge, to: ReplicaId): StateTransfer | null {
  const p = know.stable;
  const seen = know.states[know.states.length - 1];
  if (seen !== undefined && kit.chance(0.5)) return lieInState(kit, know, { ...seen, to }, kit.pick(['relabelled', 'stale'] as const));
  if (p.seq === 0) return null;
  const stale = know.states.find((x) => x.seq < p.seq);
  const snapshot = stale?.snapshot ?? new Uint8Array([1, 2, 3, 4]);
  return kit.sign<StateTransfer>({
    type: 'State',
    from: kit.id,
    to,
    seq: p.seq,
    digest: p.digest,
    position: kit.pick([0, 1, p.seq]),
    snapshot,
    proof: p.proof,
    sig: UNSIGNED,
  });
}

/** Committed batches that never were: other batches at the seqs asked for, with forged or foreign commits. */
function unfoundedCommitted(kit: Kit, know: Knowledge, to: ReplicaId, after: number): CommittedBatches {
  const certificates: CommitCertificate[] = [];
  for (let seq = after + 1; seq <= after + 3; seq++) {
    const requests = conflictingBatch(kit, know, know.prePrepares.get(seq));
    const digest = batchDigest(requests);
    const view = know.view;
    const genuine = know.commits.get(seq) ?? [];
    const signers = [kit.id, ...kit.others].slice(0, 2 * kit.f + 1);
    const commits =
      genuine.length > 0 && kit.chance(0.5)
        ? genuine // real signatures, for the batch that really committed: the digest does not match
        : signers.map((from) => kit.sign<Commit>({ type: 'Commit', from, to: null, view, seq, digest, sig: UNSIGNED }));
    certificates.push({ view, seq, digest, requests, commits });
  }
  return kit.sign<CommittedBatches>({ type: 'Committed', from: kit.id, to, certificates, sig: UNSIGNED });
}

/**
 * lie-status: lying STATUS, CHECKPOINT and state-transfer messages. Its status messages claim
 * states it is not in; its checkpoints carry wrong digests and claim seqs it has not reached;
 * it answers every FetchState and FetchCommitted it gets, whether it has the state or not, with
 * genuine proofs around made-up state.
 */
export function lieStatusStrategy(kit: Kit, know: Knowledge): ByzantineFilter {
  /** The lie told about each own checkpoint (the same on every retransmission). */
  const checkpointLies = new Map<number, Checkpoint[]>();
  const asked: PbftMessage[] = [];
  const lieAbout = (c: Checkpoint): Checkpoint[] => {
    let lie = checkpointLies.get(c.seq);
    if (lie === undefined) {
      const K = know.checkpointInterval;
      const wrong = kit.chance(0.5) ? kit.sign({ ...c, digest: kit.garbage() }) : c;
      // A checkpoint for a seq not reached, with whatever digest someone else claimed for it (or garbage).
      const ahead = c.seq + K * (kit.chance(0.5) ? 1 : 2);
      const claimed = know.checkpointsAt(ahead)[0]?.digest ?? kit.garbage();
      lie = [wrong, kit.sign<Checkpoint>({ ...c, seq: ahead, digest: claimed })];
      checkpointLies.set(c.seq, lie);
      if (checkpointLies.size > 64) checkpointLies.delete(checkpointLies.keys().next().value!);
    }
    return lie.map((x) => ({ ...x, to: c.to }));
  };
  return {
    behavior: 'lie-status',
    observe(m) {
      know.see(m);
      if ((m.type === 'FetchState' || m.type === 'FetchCommitted') && asked.length < 16) asked.push(m);
    },
    messages(out) {
      const res: PbftMessage[] = [];
      for (const m of out) {
        know.see(m);
        if (m.from !== kit.id) res.push(m);
        else if (m.type === 'Status') res.push(lieInStatus(kit, know, m, kit.pick(STATUS_LIES)));
        else if (m.type === 'Checkpoint') res.push(...lieAbout(m));
        else if (m.type === 'State') res.push(lieInState(kit, know, m, kit.pick(STATE_LIES)));
        else if (m.type === 'Committed') res.push(unfoundedCommitted(kit, know, m.to ?? kit.pick(kit.others), (m.certificates[0]?.seq ?? 1) - 1));
        else res.push(m);
      }
      // Answers to what was asked of it, whatever its core had to give.
      for (const q of asked.splice(0)) {
        if (q.type === 'FetchState') {
          const st = unfoundedState(kit, know, q.from);
          if (st !== null) res.push(st);
        } else if (q.type === 'FetchCommitted') res.push(unfoundedCommitted(kit, know, q.from, q.after));
      }
      return res;
    },
    replies: (out) => out,
  };
}
