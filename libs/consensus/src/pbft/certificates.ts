import { mutant } from '../mutants';
import { batchDigest, NULL_DIGEST } from './codec';
import type { Quorums } from './quorum';
import type { Checkpoint, ClientRequest, CommitCertificate, PbftMessage, PreparedCertificate, ReplicaId, ViewChange } from './types';

/** What the checks below need from the replica that runs them. */
export interface CertificateContext {
  q: Quorums;
  checkpointInterval: number;
  logWindow: number;
  isMember(id: string): boolean;
  primaryOf(view: number): ReplicaId;
  /** Signature check of a (possibly relayed) message by its `from`. */
  verify(m: PbftMessage): boolean;
  /**
   * The context a stable checkpoint proof at `seq` is judged in, when that is not this one (the
   * checkpoint at a configuration's boundary is signed by the configuration before it:
   * reconfiguration.ts); null: too old to judge here.
   */
  checkpointContext?: (seq: number) => CertificateContext | null;
}

/**
 * At least `need` messages from distinct members, each satisfying `match` and correctly signed.
 * The work is bounded by n, not by what a sender packed into the list: a list longer than n cannot
 * come from a correct replica (one message per member) and is refused unread; each member is
 * considered once, its first entry decides even when its signature fails (a forged copy cannot
 * make us verify the member again); verification stops as soon as `need` are found.
 */
function distinctValid<M extends PbftMessage>(ctx: CertificateContext, msgs: M[], need: number, match: (m: M) => boolean): boolean {
  if (msgs.length > ctx.q.n) return false;
  const considered = new Set<string>();
  const duplicates = mutant('pbft.certificate.count-duplicates');
  const unsigned = mutant('pbft.certificate.skip-signatures');
  let valid = 0;
  for (const m of msgs) {
    if (!match(m) || !ctx.isMember(m.from) || (considered.has(m.from) && !duplicates)) continue;
    considered.add(m.from);
    if ((unsigned || ctx.verify(m)) && ++valid >= need) return true;
  }
  return false;
}

/** C: 2f+1 checkpoints for (seq, digest). Seq 0 is the initial state and needs no proof. */
export function validCheckpointProof(ctx: CertificateContext, seq: number, digest: string | null, proof: Checkpoint[]): boolean {
  if (seq === 0) return proof.length === 0;
  if (seq % ctx.checkpointInterval !== 0 || proof.length === 0) return false;
  const d = digest ?? proof[0].digest;
  return distinctValid(ctx, proof, ctx.q.strong, (c) => c.type === 'Checkpoint' && c.seq === seq && c.digest === d);
}

/** Pm: a pre-prepare by the primary of its view and 2f matching prepares by distinct backups. */
export function validPreparedCertificate(ctx: CertificateContext, cert: PreparedCertificate): boolean {
  const pp = cert.prePrepare;
  if (pp.type !== 'PrePrepare' || pp.from !== ctx.primaryOf(pp.view)) return false;
  if (!mutant('pbft.certificate.skip-signatures') && !ctx.verify(pp)) return false;
  if (batchDigest(pp.requests) !== pp.digest) return false;
  const primaryMayPrepare = ctx.q.primaryMayPrepare || mutant('pbft.prepare.count-primary');
  return distinctValid(
    ctx,
    cert.prepares,
    ctx.q.prepare,
    (p) => p.type === 'Prepare' && p.view === pp.view && p.seq === pp.seq && p.digest === pp.digest && (primaryMayPrepare || p.from !== pp.from),
  );
}

/** 2f+1 matching commits and a batch with the committed digest. */
export function validCommitCertificate(ctx: CertificateContext, cert: CommitCertificate): boolean {
  if (batchDigest(cert.requests) !== cert.digest) return false;
  return distinctValid(ctx, cert.commits, ctx.q.commit, (c) => c.type === 'Commit' && c.view === cert.view && c.seq === cert.seq && c.digest === cert.digest);
}

/** A VIEW-CHANGE whose C proves its checkpoint and whose P holds valid certificates above it, below its view. */
export function validViewChange(ctx: CertificateContext, vc: ViewChange): boolean {
  // At most one certificate per seq in the window: a longer P is refused before any signature check.
  if (vc.prepared.length > ctx.logWindow) return false;
  const cctx = ctx.checkpointContext === undefined ? ctx : ctx.checkpointContext(vc.stableSeq);
  if (!mutant('pbft.view-change.skip-checkpoint-proof') && (cctx === null || !validCheckpointProof(cctx, vc.stableSeq, null, vc.checkpointProof))) return false;
  if (mutant('pbft.view-change.skip-prepared-proof')) return true;
  const seqs = new Set<number>();
  for (const cert of vc.prepared) {
    const { seq, view } = cert.prePrepare;
    if (seq <= vc.stableSeq || seq > vc.stableSeq + ctx.logWindow || view >= vc.view || seqs.has(seq)) return false;
    if (!validPreparedCertificate(ctx, cert)) return false;
    seqs.add(seq);
  }
  return true;
}

export interface NewViewPlan {
  /** min-s: the latest stable checkpoint in V, with its proof. */
  minS: number;
  minSDigest: string | null;
  minSProof: Checkpoint[];
  /** max-s: the highest prepared seq in V (min-s when none). */
  maxS: number;
  /** O: one batch per seq in (min-s, max-s]; the null request where V has no certificate. */
  batches: { seq: number; digest: string; requests: ClientRequest[] }[];
}

/**
 * The new primary's computation of O from V (and each backup's check of it): for each seq
 * between min-s and max-s, the batch of the prepared certificate with the highest view, else null.
 */
export function planNewView(vcs: ViewChange[]): NewViewPlan {
  let minS = 0;
  let minSProof: Checkpoint[] = [];
  for (const vc of vcs) {
    if (vc.stableSeq > minS) {
      minS = vc.stableSeq;
      minSProof = vc.checkpointProof;
    }
  }
  const best = new Map<number, PreparedCertificate>();
  let maxS = minS;
  for (const vc of vcs) {
    for (const cert of vc.prepared) {
      const seq = cert.prePrepare.seq;
      if (seq <= minS) continue;
      if (seq > maxS) maxS = seq;
      const cur = best.get(seq);
      if (cur === undefined || cert.prePrepare.view > cur.prePrepare.view) best.set(seq, cert);
    }
  }
  const batches: NewViewPlan['batches'] = [];
  for (let seq = minS + 1; seq <= maxS; seq++) {
    const cert = best.get(seq);
    batches.push(cert ? { seq, digest: cert.prePrepare.digest, requests: cert.prePrepare.requests } : { seq, digest: NULL_DIGEST, requests: [] });
  }
  return { minS, minSDigest: minSProof.length > 0 ? minSProof[0].digest : null, minSProof, maxS, batches };
}
