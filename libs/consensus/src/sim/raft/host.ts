import { KvStateMachine } from '../../kv';
import { RaftNode } from '../../raft';
import type { NodeId, RaftConfig, ReadState, Ready } from '../../raft/types';
import { Disk } from './disk';
import type { CrashStage, CrashTrigger } from './nemesis';

export function grantsVote(rd: Ready): boolean {
  return rd.messages.some((m) => m.type === 'RequestVoteResponse' && !m.preVote && m.voteGranted);
}

/**
 * One replica's process: the core, its state machine and the runtime's bookkeeping, all
 * volatile — plus its disk, which is not. A crash keeps the disk and nothing else.
 */
export class Host {
  alive = false;
  node: RaftNode | null = null;
  readonly disk = new Disk();
  sm: KvStateMachine | null = null;
  applied = 0;
  /** Bumped by every crash, so that a restart scheduled for an earlier life is ignored. */
  incarnation = 0;
  /** A crash waiting for a Ready of the given kind, to strike at the given stage of handling it. */
  armed: { stage: CrashStage; trigger: CrashTrigger } | null = null;
  restartAfter = 1;
  /** ReadIndex answers waiting for applied >= index. */
  reads: ReadState[] = [];
  /** Request id -> client, for proposals made through this replica. */
  readonly waiters = new Map<string, number>();
  /** Boots with no configuration (a spare, or a replaced machine): it learns its membership from a leader. */
  joiner = false;
  /** Role and term at the last observation (to notice changes). */
  role = '';
  term = 0;
  /** This replica's clock: when it ticks next, and the time between two of its ticks. */
  nextTickAt = 1;
  tickPeriod = 1;

  constructor(
    readonly id: NodeId,
    readonly index: number,
  ) {}

  get core(): RaftNode {
    return this.node!;
  }

  get kv(): KvStateMachine {
    return this.sm!;
  }

  /** Starts from what is on disk only: the same path as a process start. */
  boot(config: RaftConfig): void {
    this.node = new RaftNode(config, this.disk.load());
    const snap = this.disk.snapshot;
    this.sm = snap ? KvStateMachine.restore(snap.data) : new KvStateMachine();
    this.applied = snap ? snap.lastIncludedIndex : 0;
    this.alive = true;
    this.role = '';
  }

  /** The process dies: everything but the disk is gone. */
  lose(): void {
    this.alive = false;
    this.node = null;
    this.sm = null;
    this.reads = [];
    this.waiters.clear();
    this.armed = null;
    this.incarnation++;
  }

  snapshotIndex(): number {
    return this.core.snapshot()?.lastIncludedIndex ?? 0;
  }

  /** Does the armed crash strike while handling this Ready? */
  armedFor(rd: Ready): boolean {
    const a = this.armed;
    if (a === null) return false;
    switch (a.trigger) {
      case 'persist':
        return rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
      case 'entries':
        return rd.entries.length > 0;
      case 'vote':
        return grantsVote(rd);
      case 'commit':
        return rd.committedEntries.length > 0;
    }
  }
}
