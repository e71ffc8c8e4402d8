import type { PbftLogEntry, PbftPersistentState, PbftReady } from '../types';
import { emptyPbftState } from '../types';

/** What a replica's disk holds, applied from Ready batches exactly as the runtime must. */
export class MemoryPbftStorage {
  private state: PbftPersistentState = emptyPbftState();
  private readonly entries = new Map<number, PbftLogEntry>();

  apply(rd: PbftReady): void {
    if (rd.stableCheckpoint !== null) {
      this.state.stableCheckpoint = rd.stableCheckpoint;
      for (const seq of [...this.entries.keys()]) if (seq <= rd.stableCheckpoint.seq) this.entries.delete(seq);
    }
    if (rd.hardState !== null) this.state.hardState = { ...rd.hardState };
    if (rd.newView !== null) this.state.newView = rd.newView;
    const floor = this.state.stableCheckpoint?.seq ?? 0;
    for (const e of rd.entries) if (e.seq > floor) this.entries.set(e.seq, e);
  }

  /** What a restarted replica reads back. */
  load(): PbftPersistentState {
    return {
      hardState: { ...this.state.hardState },
      newView: this.state.newView,
      stableCheckpoint: this.state.stableCheckpoint,
      entries: [...this.entries.values()].sort((a, b) => a.seq - b.seq),
    };
  }

  get entryCount(): number {
    return this.entries.size;
  }
}
