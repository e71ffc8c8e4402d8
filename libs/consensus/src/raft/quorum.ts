import { mutant } from '../mutants';

/** Votes or acknowledgements needed out of n voters. */
export function quorumOf(n: number): number {
  if (mutant('raft.quorum.half')) return Math.max(1, Math.floor(n / 2));
  return Math.floor(n / 2) + 1;
}

/** The highest index that at least `q` of the given match indices reach. */
export function quorumIndex(matches: number[], q: number): number {
  const sorted = matches.slice().sort((a, b) => b - a);
  return sorted[q - 1] ?? 0;
}
