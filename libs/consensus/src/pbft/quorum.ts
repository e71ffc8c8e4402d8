/** The certificate sizes of one cluster of n = 3f+1 replicas. */
export interface Quorums {
  n: number;
  f: number;
  /** Matching prepares (besides the pre-prepare) for prepared. */
  prepare: number;
  /** Matching commits for committed-local. */
  commit: number;
  /** Matching checkpoints for a stable checkpoint, view-changes for a new view. */
  strong: number;
  /** f+1: at least one correct replica among them (view-change join rule, client replies). */
  weak: number;
  /** Prepares from the primary count (only under the pbft.quorum.weak mutant). */
  primaryMayPrepare: boolean;
}

/** `weak`: the pbft.quorum.weak mutant (the replica asks, this stays a pure function of n). */
export function quorums(n: number, weak = false): Quorums {
  const f = (n - 1) / 3;
  if (!Number.isInteger(f) || f < 1) throw new Error(`PBFT needs n = 3f+1 replicas with f >= 1 (4, 7, 10, ...), got ${n}`);
  if (weak) {
    // The old toy's rule: "more than n/3" votes, from anyone.
    const toy = Math.floor(n / 3) + 1;
    return { n, f, prepare: toy, commit: toy, strong: 2 * f + 1, weak: f + 1, primaryMayPrepare: true };
  }
  return { n, f, prepare: 2 * f, commit: 2 * f + 1, strong: 2 * f + 1, weak: f + 1, primaryMayPrepare: false };
}
