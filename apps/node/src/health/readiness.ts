import type { Protocol } from '@app/wire';
import type { RuntimeStatus } from '../replica/runtime';

export interface ReplicaChecks {
  /** The runtime runs (not killed, not restarting after a crash). */
  alive: boolean;
  /** The storage Redis answers. */
  storage: boolean;
  /** The bus carries frames to this replica. */
  bus: boolean;
  /** A Raft leader / PBFT primary is known (no election or view change under way). */
  leader: boolean;
  /** The replica has applied what it knows to be committed (see catchUpTarget). */
  caughtUp: boolean;
  /** The Raft term / PBFT view can still be incremented (false: at its ceiling, RuntimeStatus.fatal). */
  termLeft: boolean;
}

/**
 * The index this replica must have applied to be caught up. Raft: the commitIndex it knows.
 * PBFT: h, the stable checkpoint 2f+1 replicas certified; executing below it means the state is
 * still being fetched (state transfer).
 */
export function catchUpTarget(protocol: Protocol, s: RuntimeStatus): number {
  return protocol === 'pbft' ? (s.lowWaterMark ?? s.stableCheckpoint ?? 0) : s.commitIndex;
}

/** A runtime that is loaded (not still reading storage) and names a leader/primary. */
export function knowsLeader(s: RuntimeStatus | null): boolean {
  return s !== null && s.role !== 'starting' && s.leader !== null;
}

export function isReady(checks: ReplicaChecks): boolean {
  return checks.alive && checks.storage && checks.bus && checks.leader && checks.caughtUp && checks.termLeft;
}
