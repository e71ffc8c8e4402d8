import type { RaftFaults } from '../../raft/types';

/** Deliberately broken variants: each removes one safety rule, and the simulator must notice. */
export const RAFT_CANARIES: Readonly<Record<string, RaftFaults>> = {
  /** Votes without the §5.4.1 check: a stale log can win and overwrite committed entries. */
  'skip-up-to-date-check': { skipUpToDateCheck: true },
  /** Figure 8: an old-term entry counted as committed, later overwritten. */
  'commit-previous-term-by-count': { commitPreviousTermByCount: true },
  /** The vote is not persisted: a voter that restarts votes twice in one term. */
  'forget-vote': { forgetVote: true },
};

export function raftCanary(name: string): RaftFaults {
  const faults = RAFT_CANARIES[name];
  if (faults === undefined) {
    throw new Error(`unknown raft canary "${name}"; known: ${Object.keys(RAFT_CANARIES).join(', ')}`);
  }
  return faults;
}
