import { checkBatch, checkCompaction, checkPlacement, checkSnapshot } from './validate';
import type { DurableStore, LogRecord, PersistBatch, StoredSnapshot, StoredState } from './types';

/** Copies so that neither side can change the other's bytes later, as with a real disk. */
const copy = (data: Uint8Array): Uint8Array => new Uint8Array(data);

/**
 * The whole store in memory, for the simulator and unit tests. The instance plays the
 * disk: it outlives a simulated crash, and close() does not wipe or disable it, so a
 * revived replica can load() from the same instance.
 */
export class MemoryStore implements DurableStore {
  private hardState: Uint8Array | null = null;
  private snapshot: StoredSnapshot | null = null;
  /** entries[i] holds index snapshotIndex + 1 + i. */
  private entries: Uint8Array[] = [];
  private slots = new Map<number, Uint8Array>();

  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  loadSync(): StoredState {
    const base = this.snapshotIndex;
    return {
      hardState: this.hardState && copy(this.hardState),
      snapshot: this.snapshot && { index: this.snapshot.index, data: copy(this.snapshot.data) },
      records: this.entries.map((data, i): LogRecord => ({ index: base + 1 + i, data: copy(data) })),
      slots: [...this.slots].sort((a, b) => a[0] - b[0]).map(([index, data]) => ({ index, data: copy(data) })),
    };
  }

  persistSync(batch: PersistBatch): void {
    // Validate everything before touching anything: all of the batch or none of it.
    checkBatch(batch);
    const base = batch.snapshot ? batch.snapshot.index : this.snapshotIndex;
    const last = batch.snapshot ? base : this.lastIndex;
    const records = batch.records ?? [];
    if (records.length > 0) checkPlacement(records[0].index, base, last);

    if (batch.snapshot) {
      this.snapshot = { index: batch.snapshot.index, data: copy(batch.snapshot.data) };
      this.entries = [];
      this.dropSlotsUpTo(batch.snapshot.index);
    }
    if (batch.hardState) this.hardState = copy(batch.hardState);
    if (records.length > 0) {
      this.entries.length = records[0].index - base - 1;
      for (const r of records) this.entries.push(copy(r.data));
    }
    for (const r of batch.slots?.put ?? []) if (r.index > this.snapshotIndex) this.slots.set(r.index, copy(r.data));
    for (const i of batch.slots?.drop ?? []) this.slots.delete(i);
  }

  private dropSlotsUpTo(index: number): void {
    for (const i of this.slots.keys()) if (i <= index) this.slots.delete(i);
  }

  compactSync(snapshot: StoredSnapshot): void {
    checkSnapshot(snapshot);
    checkCompaction(snapshot.index, this.snapshotIndex);
    this.entries.splice(0, Math.min(snapshot.index - this.snapshotIndex, this.entries.length));
    this.snapshot = { index: snapshot.index, data: copy(snapshot.data) };
    this.dropSlotsUpTo(snapshot.index);
  }

  destroySync(): void {
    this.hardState = null;
    this.snapshot = null;
    this.entries = [];
    this.slots.clear();
  }

  async load(): Promise<StoredState> {
    return this.loadSync();
  }

  async persist(batch: PersistBatch): Promise<void> {
    this.persistSync(batch);
  }

  async compact(snapshot: StoredSnapshot): Promise<void> {
    this.compactSync(snapshot);
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }

  async close(): Promise<void> {
    // Nothing to release; the data stays (see the class comment).
  }
}
