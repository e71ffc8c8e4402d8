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
  /** The replica has applied what the cluster committed, as far as it was told (see catchUpTarget). */
  caughtUp: boolean;
  /** The Raft term / PBFT view can still be incremented (false: at its ceiling, RuntimeStatus.fatal). */
  termLeft: boolean;
}

/**
 * The index this replica must have applied to be caught up; null: it cannot be (no leader known).
 * Both protocols measure against what the cluster committed, not what this replica knows of it:
 * - PBFT: h, the stable checkpoint 2f+1 replicas certified; executing below it means the state is
 *   still being fetched (state transfer).
 * - Raft: leaderCommit, the commitIndex the current leader last told it (a leader: its own). Not
 *   the replica's own commitIndex: that stops at the end of its log, so a follower far behind the
 *   leader would have applied all of it and look caught up.
 *
 * No slack in entries: the slack is in time. The health controller takes this target when asked and
 * gives the replica READY_WAIT_MS to apply up to it, so a replica that trails the leader by a
 * pipeline's worth under load (busy) is ready and one that cannot close the gap in that time
 * (behind) is not; a count of entries would mean something different at every write rate.
 */
export function catchUpTarget(protocol: Protocol, s: RuntimeStatus): number | null {
  if (protocol === 'pbft') return s.lowWaterMark ?? s.stableCheckpoint ?? 0;
  return s.leader === null ? null : (s.leaderCommit ?? null);
}

/** A runtime that is loaded (not still reading storage) and names a leader/primary. */
export function knowsLeader(s: RuntimeStatus | null): boolean {
  return s !== null && s.role !== 'starting' && s.leader !== null;
}

export function isReady(checks: ReplicaChecks): boolean {
  return checks.alive && checks.storage && checks.bus && checks.leader && checks.caughtUp && checks.termLeft;
}
