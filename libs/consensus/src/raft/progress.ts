/**
 * The leader's view of one follower (Figure 2's nextIndex/matchIndex), with etcd's flow control:
 * - probe: one AppendEntries at a time until the follower's position is found;
 * - replicate: optimistic pipelining, at most `maxInflight` unacknowledged messages;
 * - snapshot: an InstallSnapshot is on its way; nothing else is sent.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = 'probe';
  /** In probe state: a message is out, wait for its answer (or the next heartbeat). */
  paused = false;
  /** Last index of each AppendEntries in flight, ascending. */
  inflight: number[] = [];
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Ticks since the follower last acknowledged progress; detects lost messages in a pipeline. */
  stalledTicks = 0;

  constructor(
    nextIndex: number,
    public isLearner: boolean,
  ) {
    this.nextIndex = nextIndex;
  }

  becomeProbe(): void {
    this.nextIndex = this.matchIndex + 1;
    this.state = 'probe';
    this.paused = false;
    this.inflight = [];
    this.pendingSnapshot = 0;
    this.stalledTicks = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.nextIndex = this.matchIndex + 1;
    this.paused = false;
    this.inflight = [];
    this.stalledTicks = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.inflight = [];
    this.stalledTicks = 0;
  }

  /** A successful answer up to `index`. Returns true when it moved matchIndex. */
  maybeUpdate(index: number): boolean {
    let moved = false;
    if (index > this.matchIndex) {
      this.matchIndex = index;
      this.paused = false;
      this.stalledTicks = 0;
      moved = true;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    while (this.inflight.length > 0 && this.inflight[0] <= index) this.inflight.shift();
    return moved;
  }

  /** Sent entries up to `last` (replicate state). */
  sentTo(last: number, maxInflight: number): void {
    if (this.state === 'replicate') {
      this.nextIndex = last + 1;
      this.inflight.push(last);
      this.paused = this.inflight.length >= maxInflight;
    } else {
      this.paused = true;
    }
  }

  isPaused(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.paused;
      case 'replicate':
        return this.inflight.length >= maxInflight;
      case 'snapshot':
        return true;
    }
  }
}
