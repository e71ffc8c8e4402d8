import { batchDigest, requestKey } from '../codec';
import type { Checkpoint, ClientRequest, PreparedCertificate, PrePrepare, Prepare, ViewChange } from '../types';
import { UNSIGNED, type Kit } from './kit';
import type { Knowledge } from './knowledge';

/**
 * Forged proofs for the view change: prepared certificates (P) and stable checkpoint proofs (C)
 * that look like the real thing and are not. Each lie is aimed at one check of a correct replica
 * (signatures, matching digests, distinct senders, water marks), so that removing that check
 * lets the lie through and the simulator sees the damage.
 */

/** How a prepared certificate lies. */
export type CertificateLie =
  /** Pre-prepare and prepares in other replicas' names, all signed with this replica's key. */
  | 'fake-prepares'
  /** Genuine prepares by other replicas, but for another digest (or view) than the pre-prepare. */
  | 'foreign-digest'
  /** One prepare (validly signed) repeated 2f times: one sender counted as many. */
  | 'padded'
  /** A certificate from the view being moved to (or later): it wins every tie in O. */
  | 'future-view'
  /** A second certificate for a seq P already proves, at a higher view. */
  | 'duplicate-seq';

/** How a stable checkpoint proof lies. */
export type CheckpointLie =
  /** 2f+1 checkpoints in other replicas' names, signed with this replica's key, for a later seq. */
  | 'fake-checkpoint'
  /** The real proof led by this replica's own checkpoint with a wrong digest (C's digest is its first entry's). */
  | 'wrong-checkpoint-digest'
  /** A genuine proof, for another seq than the one claimed stable. */
  | 'wrong-checkpoint-seq'
  /** This replica's own checkpoint, 2f+1 times. */
  | 'padded-checkpoint';

export const CERTIFICATE_LIES: readonly CertificateLie[] = ['fake-prepares', 'foreign-digest', 'padded', 'future-view', 'duplicate-seq'];
export const CHECKPOINT_LIES: readonly CheckpointLie[] = ['fake-checkpoint', 'wrong-checkpoint-digest', 'wrong-checkpoint-seq', 'padded-checkpoint'];
export const VIEW_CHANGE_LIES: readonly (CertificateLie | CheckpointLie)[] = [...CERTIFICATE_LIES, ...CHECKPOINT_LIES];

/**
 * A batch other than the one `real` ordered at its seq: the null request in place of a real
 * batch, or a request seen ordered elsewhere (probably executed: a replay) in place of a null one.
 */
export function conflictingBatch(kit: Kit, know: Knowledge, real: PrePrepare | undefined): ClientRequest[] {
  const mine = new Set((real?.requests ?? []).map(requestKey));
  const elsewhere = know.requests.filter((r) => !mine.has(requestKey(r)));
  if (real !== undefined && real.requests.length > 0 && (elsewhere.length === 0 || kit.chance(0.6))) return [];
  return elsewhere.length > 0 ? [kit.pick(elsewhere)] : [];
}

function prepareBy(kit: Kit, from: string, view: number, seq: number, digest: string): Prepare {
  return kit.sign<Prepare>({ type: 'Prepare', from, to: null, view, seq, digest, sig: UNSIGNED });
}

/** A prepared certificate for `seq` at `view` with another batch than the one that was ordered there. */
export function fakePreparedCertificate(kit: Kit, know: Knowledge, seq: number, view: number, lie: CertificateLie): PreparedCertificate {
  const requests = conflictingBatch(kit, know, know.prePrepares.get(seq));
  const digest = batchDigest(requests);
  const from = kit.primaryOf(view);
  // Valid only when this replica is that view's primary: then just the prepares are the lie.
  const prePrepare = kit.sign<PrePrepare>({ type: 'PrePrepare', from, to: null, view, seq, digest, requests, sig: UNSIGNED });
  const backups = [kit.id, ...kit.others].filter((r) => r !== from);
  const need = 2 * kit.f;
  switch (lie) {
    case 'foreign-digest': {
      const genuine = (know.prepares.get(seq) ?? []).filter((p) => p.digest !== digest || p.view !== view);
      const fill = backups.filter((r) => !genuine.some((p) => p.from === r)).map((r) => prepareBy(kit, r, view, seq, digest));
      return { prePrepare, prepares: [...genuine, ...fill].slice(0, need) };
    }
    case 'padded': {
      const one = prepareBy(kit, backups[0], view, seq, digest);
      return { prePrepare, prepares: Array.from({ length: need }, () => one) };
    }
    default:
      return { prePrepare, prepares: backups.slice(0, need).map((r) => prepareBy(kit, r, view, seq, digest)) };
  }
}

function checkpointBy(kit: Kit, from: string, seq: number, digest: string): Checkpoint {
  return kit.sign<Checkpoint>({ type: 'Checkpoint', from, to: null, seq, digest, sig: UNSIGNED });
}

/** A stable checkpoint claim (n, C) that does not hold. */
export function fakeCheckpointProof(kit: Kit, know: Knowledge, lie: CheckpointLie): { stableSeq: number; checkpointProof: Checkpoint[] } {
  const K = know.checkpointInterval;
  const real = know.stable;
  const strong = 2 * kit.f + 1;
  // A checkpoint some replica reached (so its digest may be known), else the next one.
  const ahead = Math.max(real.seq + K, know.maxCheckpointSeq);
  const seenDigest = know.checkpointsAt(ahead)[0]?.digest ?? kit.garbage();
  switch (lie) {
    case 'wrong-checkpoint-digest':
      if (real.seq > 0) return { stableSeq: real.seq, checkpointProof: [checkpointBy(kit, kit.id, real.seq, kit.garbage()), ...real.proof].slice(0, kit.n) };
      break;
    case 'wrong-checkpoint-seq':
      if (real.seq > 0) return { stableSeq: real.seq + K, checkpointProof: real.proof };
      break;
    case 'padded-checkpoint': {
      const own = checkpointBy(kit, kit.id, ahead, seenDigest);
      return { stableSeq: ahead, checkpointProof: Array.from({ length: strong }, () => own) };
    }
    default:
      break;
  }
  const signers = [kit.id, ...kit.others].slice(0, strong);
  return { stableSeq: ahead, checkpointProof: signers.map((r) => checkpointBy(kit, r, ahead, seenDigest)) };
}

/** Sequence numbers a forged P covers: what was ordered above the stable checkpoint, within the window. */
function coveredSeqs(know: Knowledge, stableSeq: number): number[] {
  const top = Math.min(stableSeq + know.logWindow, Math.max(know.maxSeq, stableSeq + 1));
  const seqs: number[] = [];
  for (let s = stableSeq + 1; s <= top; s++) seqs.push(s);
  return seqs;
}

/**
 * A VIEW-CHANGE for `vc.view` that lies about P or about C (one lie per message, drawn at
 * random): its P claims that other batches prepared, at the highest view below the new one, at
 * every seq that was ordered; or its C claims a stable checkpoint that is not one.
 */
export function forgeViewChange(kit: Kit, know: Knowledge, vc: ViewChange, lie: CertificateLie | CheckpointLie = kit.pick(VIEW_CHANGE_LIES)): ViewChange {
  if ((CHECKPOINT_LIES as readonly string[]).includes(lie)) {
    const { stableSeq, checkpointProof } = fakeCheckpointProof(kit, know, lie as CheckpointLie);
    // P stays genuine (what is above the claimed checkpoint): only C lies.
    const prepared = vc.prepared.filter((c) => c.prePrepare.seq > stableSeq && c.prePrepare.seq <= stableSeq + know.logWindow);
    return kit.sign({ ...vc, stableSeq, checkpointProof, prepared });
  }
  const certLie = lie as CertificateLie;
  const view = certLie === 'future-view' ? vc.view : Math.max(0, vc.view - 1);
  const fakes = coveredSeqs(know, vc.stableSeq).map((s) => fakePreparedCertificate(kit, know, s, view, certLie));
  // Fakes first (the first of equal views wins in O); no longer than L, or it is refused unread.
  const prepared = certLie === 'duplicate-seq' ? [...fakes, ...vc.prepared] : fakes;
  return kit.sign({ ...vc, prepared: prepared.slice(0, know.logWindow) });
}

/** A VIEW-CHANGE with nothing genuine to build on: for `view`, from the best stable checkpoint known. */
export function blankViewChange(kit: Kit, know: Knowledge, view: number): ViewChange {
  const base = know.ownViewChange;
  const stable = base !== null && base.stableSeq >= know.stable.seq ? { seq: base.stableSeq, proof: base.checkpointProof } : know.stable;
  return kit.sign<ViewChange>({
    type: 'ViewChange',
    from: kit.id,
    to: null,
    view,
    stableSeq: stable.seq,
    checkpointProof: stable.proof,
    prepared: base !== null && base.stableSeq === stable.seq ? base.prepared : [],
    sig: UNSIGNED,
  });
}
