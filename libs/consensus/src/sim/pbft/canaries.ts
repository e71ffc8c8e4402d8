import type { PbftFaults } from '../../pbft/types';

/** Deliberately broken variants: each removes one safety rule, and the simulator must notice. */
export const PBFT_CANARIES: Readonly<Record<string, PbftFaults>> = {
  /** The old toy's "> n/3" prepares/commits as a quorum: an equivocating primary splits correct replicas. */
  weakQuorum: { weakQuorum: true },
  /** VIEW-CHANGE without the P set: the new view re-assigns sequence numbers that already committed. */
  dropPreparedSetInViewChange: { dropPreparedSetInViewChange: true },
  /** No client table check: a `replay-requests` primary gets an executed request executed again. */
  skipTimestampCheck: { skipTimestampCheck: true },
};

export function pbftCanary(name: string): PbftFaults {
  const faults = PBFT_CANARIES[name];
  if (faults === undefined) throw new Error(`unknown pbft canary "${name}"; known: ${Object.keys(PBFT_CANARIES).join(', ')}`);
  return faults;
}
