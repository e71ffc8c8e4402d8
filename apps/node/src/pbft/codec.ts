import { Packr } from 'msgpackr';
import type { ExecutedBatch, NewView, PbftHardState, PbftPersistentState, PbftReady, PbftStableCheckpoint } from '@app/consensus/pbft';
import { emptyPbftState } from '@app/consensus/pbft';
import type { LogRecord, PersistBatch, StoredSnapshot, StoredState } from '@app/storage';

/**
 * PBFT's state in the replica's store:
 *  - hard state = {view, active, lowWaterMark} with the NEW-VIEW that installed the view;
 *  - snapshot = the stable checkpoint (its seq is the snapshot index);
 *  - slots = the per-sequence-number log entries (pre-prepare, prepared and commit certificates),
 *    upserted by seq: they are what a restarted replica replays;
 *  - log stream = the executed batches in seq order: the audit trail of what this replica executed.
 */
const packr = new Packr({ useRecords: false, moreTypes: false });

interface StoredHard {
  hardState: PbftHardState;
  newView: NewView | null;
}

export function encodeCheckpoint(cp: PbftStableCheckpoint): StoredSnapshot {
  return { index: cp.seq, data: packr.pack(cp) };
}

export class PbftCodec {
  /** The NEW-VIEW last persisted: a hard-state change without a new one keeps it (restore ignores a stale one). */
  private newView: NewView | null = null;
  /** The last executed seq held by the log stream (it must stay contiguous). */
  private lastRecorded = 0;
  private snapshotSeq = 0;

  load(st: StoredState): PbftPersistentState {
    const ps = emptyPbftState();
    if (st.hardState) {
      const h = packr.unpack(st.hardState) as StoredHard;
      ps.hardState = h.hardState;
      ps.newView = h.newView;
      this.newView = h.newView;
    }
    if (st.snapshot) {
      ps.stableCheckpoint = packr.unpack(st.snapshot.data) as PbftStableCheckpoint;
      this.snapshotSeq = st.snapshot.index;
    }
    ps.entries = st.slots.map((s) => packr.unpack(s.data));
    this.lastRecorded = st.records.length > 0 ? st.records[st.records.length - 1].index : this.snapshotSeq;
    return ps;
  }

  /** The stable checkpoint goes first, by itself: it drops stored entries at or below its seq. */
  checkpoint(rd: PbftReady): StoredSnapshot | null {
    if (!rd.stableCheckpoint || rd.stableCheckpoint.seq <= this.snapshotSeq) return null;
    return encodeCheckpoint(rd.stableCheckpoint);
  }

  checkpointStored(seq: number): void {
    this.snapshotSeq = Math.max(this.snapshotSeq, seq);
    this.lastRecorded = Math.max(this.lastRecorded, this.snapshotSeq);
  }

  /** Hard state, entries and executed batches: one atomic write. */
  batch(rd: PbftReady): PersistBatch | null {
    const batch: PersistBatch = {};
    if (rd.hardState) {
      if (rd.newView) this.newView = rd.newView;
      batch.hardState = packr.pack({ hardState: rd.hardState, newView: this.newView } satisfies StoredHard);
    }
    const put: LogRecord[] = rd.entries.filter((e) => e.seq > this.snapshotSeq).map((e) => ({ index: e.seq, data: packr.pack(e) }));
    if (put.length > 0) batch.slots = { put };
    const records = this.executedRecords(rd.executed);
    if (records.length > 0) batch.records = records;
    return batch.hardState || batch.slots || batch.records ? batch : null;
  }

  recorded(batch: PersistBatch): void {
    const r = batch.records;
    if (r && r.length > 0) this.lastRecorded = r[r.length - 1].index;
  }

  /** Executed batches above the snapshot that extend (or, after a replay, rewrite) the contiguous stream. */
  private executedRecords(executed: ExecutedBatch[]): LogRecord[] {
    const out: LogRecord[] = [];
    let limit = this.lastRecorded + 1;
    for (const b of executed) {
      // Skip what a checkpoint covers, and a state-transfer jump: the stream restarts at the next checkpoint.
      if (b.seq <= this.snapshotSeq || b.seq > limit) continue;
      if (out.length > 0 && b.seq !== out[out.length - 1].index + 1) continue;
      out.push({ index: b.seq, data: packr.pack(b) });
      limit = b.seq + 1;
    }
    return out;
  }
}
