import { isMutantName, type RaftMutant } from '../../mutants';

/** A mistake in the runtime around the core (the simulator's side of Ready), not in the core. */
export type RuntimeFault =
  /** Serve reads from the contacted replica's state machine at once, without ReadIndex. */
  | 'stale-read'
  /** Acknowledge a write as soon as the leader appended it, before it is committed. */
  | 'ack-on-append'
  /** Persist the hard state but never the entries. */
  | 'volatile-log';

export interface RaftCanary {
  /** A rule of the core switched off, on every node (mutants.ts). */
  mutant?: RaftMutant;
  runtime?: RuntimeFault;
}

/**
 * Deliberately broken variants: each removes one safety rule, and the simulator must notice.
 * The first four break the core (they are mutants of the catalogue in mutants.ts, under the names
 * the simulator always knew them by); the others break the runtime around it. Any other mutant of
 * the catalogue can be planted by its full name (`--canary raft.read-index.skip-confirmation`).
 */
export const RAFT_CANARIES: Readonly<Record<string, RaftCanary>> = {
  /** Votes without the §5.4.1 check: a stale log can win and overwrite committed entries. */
  'skip-up-to-date-check': { mutant: 'raft.vote.skip-up-to-date-check' },
  /** Figure 8: an old-term entry counted as committed, later overwritten. */
  'commit-previous-term-by-count': { mutant: 'raft.commit.previous-term-by-count' },
  /** The vote is not persisted: a voter that restarts votes twice in one term. */
  'forget-vote': { mutant: 'raft.vote.forget' },
  /** Two voters added in one change, without joint consensus: old and new majorities need not overlap (§4.1). */
  'two-voters-at-once': { mutant: 'raft.conf.many-voters-at-once' },
  'stale-read': { runtime: 'stale-read' },
  'ack-on-append': { runtime: 'ack-on-append' },
  'volatile-log': { runtime: 'volatile-log' },
};

/** The canaries that break the core itself (mutants). */
export const CORE_CANARIES = ['skip-up-to-date-check', 'commit-previous-term-by-count', 'forget-vote', 'two-voters-at-once'] as const;

export function raftCanary(name: string): RaftCanary {
  const c = RAFT_CANARIES[name];
  if (c !== undefined) return c;
  if (name.startsWith('raft.') && isMutantName(name)) return { mutant: name as RaftMutant };
  throw new Error(`unknown raft canary "${name}"; known: ${Object.keys(RAFT_CANARIES).join(', ')}, or a raft.* mutant`);
}
