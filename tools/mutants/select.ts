import { mutantsOf, type MutantName, type MutantProtocol } from '@app/consensus/mutants';

/**
 * `k` of `names`, spread evenly over the catalogue (which groups mutants by area), the same ones on
 * every run: a CI sample that still touches elections, replication, reads, view change...
 */
export function sampleOf<T>(names: readonly T[], k: number): T[] {
  if (k >= names.length) return [...names];
  return Array.from({ length: k }, (_, i) => names[Math.floor((i * names.length) / k)]);
}

/** The mutants of `protocol` a run covers: all, or those named in `only`, or a sample of them. */
export function selectMutants(protocol: MutantProtocol, only: readonly MutantName[] | null, sample: number | null): MutantName[] {
  const all = mutantsOf(protocol);
  const chosen = only === null ? all : all.filter((m) => only.includes(m));
  return sample === null ? chosen : sampleOf(chosen, sample);
}
