import type { RaftFaults } from '../../raft/types';

/** A mistake in the runtime around the core (the simulator's side of Ready), not in the core. */
export type RuntimeFault =
  /** Serve reads from the contacted replica's state machine at once, without ReadIndex. */
  | 'stale-read'
  /** Acknowledge a write as soon as the leader appended it, before it is committed. */
  | 'ack-on-append'
  /** Persist the hard state but never the entries. */
  | 'volatile-log';

export interface RaftCanary {
  faults?: RaftFaults;
  runtime?: RuntimeFault;
}

/**
 * Deliberately broken variants: each removes one safety rule, and the simulator must notice.
 * The first three break the core (config.faults); the others break the runtime around it.
 */
export const RAFT_CANARIES: Readonly<Record<string, RaftCanary>> = {
  /** Votes without the §5.4.1 check: a stale log can win and overwrite committed entries. */
  'skip-up-to-date-check': { faults: { skipUpToDateCheck: true } },
  /** Figure 8: an old-term entry counted as committed, later overwritten. */
  'commit-previous-term-by-count': { faults: { commitPreviousTermByCount: true } },
  /** The vote is not persisted: a voter that restarts votes twice in one term. */
  'forget-vote': { faults: { forgetVote: true } },
  'stale-read': { runtime: 'stale-read' },
  'ack-on-append': { runtime: 'ack-on-append' },
  'volatile-log': { runtime: 'volatile-log' },
};

/** The canaries that break the core itself (config.faults). */
export const CORE_CANARIES = ['skip-up-to-date-check', 'commit-previous-term-by-count', 'forget-vote'] as const;

export function raftCanary(name: string): RaftCanary {
  const c = RAFT_CANARIES[name];
  if (c === undefined) throw new Error(`unknown raft canary "${name}"; known: ${Object.keys(RAFT_CANARIES).join(', ')}`);
  return c;
}
