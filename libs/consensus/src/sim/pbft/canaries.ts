import { isMutantName, type PbftMutant } from '../../mutants';

/**
 * Deliberately broken variants: each removes one safety rule, and the simulator must notice. Each is
 * a mutant of the catalogue (mutants.ts), switched on for every replica, under the name the
 * simulator always knew it by; any other mutant can be planted by its full name
 * (`--canary pbft.new-view.skip-recompute`).
 */
export const PBFT_CANARIES: Readonly<Record<string, PbftMutant>> = {
  /** The old toy's "> n/3" prepares/commits as a quorum: an equivocating primary splits correct replicas. */
  weakQuorum: 'pbft.quorum.weak',
  /** VIEW-CHANGE without the P set: the new view re-assigns sequence numbers that already committed. */
  dropPreparedSetInViewChange: 'pbft.view-change.drop-prepared-set',
  /** No client table check: a `replay-requests` primary gets an executed request executed again. */
  skipTimestampCheck: 'pbft.request.skip-timestamp-check',
  /** After growing 4 -> 7, still f = 1 quorums: certificates of 3 out of 7 replicas stop intersecting. */
  keepOldQuorum: 'pbft.reconfiguration.keep-old-quorum',
  /** A new replica set in force on execution, not at the stable checkpoint boundary: replicas judge one sequence number with different sets. */
  applyReconfigurationOnExecution: 'pbft.reconfiguration.apply-on-execution',
};

/** The mutant a canary name stands for. */
export function pbftCanary(name: string): PbftMutant {
  const m = PBFT_CANARIES[name];
  if (m !== undefined) return m;
  if (name.startsWith('pbft.') && isMutantName(name)) return name as PbftMutant;
  throw new Error(`unknown pbft canary "${name}"; known: ${Object.keys(PBFT_CANARIES).join(', ')}, or a pbft.* mutant`);
}
