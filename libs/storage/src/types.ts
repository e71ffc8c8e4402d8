/**
 * The durable store of one replica. It knows log positions and opaque bytes only: the node
 * app encodes entries and hard state (Raft term/vote/commit, PBFT view/...) into bytes.
 *
 * Invariant every implementation keeps: the stored records are exactly the indices
 * snapshot.index+1 .. lastIndex (or 1 .. lastIndex without a snapshot), with no gap.
 */

export interface LogRecord {
  /** >= 1; contiguous in the store. */
  index: number;
  data: Uint8Array;
}

export interface StoredSnapshot {
  /** The last log index the snapshot covers. */
  index: number;
  data: Uint8Array;
}

export interface StoredState {
  hardState: Uint8Array | null;
  snapshot: StoredSnapshot | null;
  /** Ascending, contiguous, all with index > snapshot.index. */
  records: LogRecord[];
  /** Ascending by index, all with index > snapshot.index (see PersistBatch.slots). */
  slots: LogRecord[];
}

/**
 * Keyed records beside the log, upserted by index, for protocol state that is not append-only
 * (PBFT's per-sequence-number certificates before execution). A snapshot — installed or from
 * compaction — drops every slot at or below its index.
 */
export interface SlotChanges {
  put?: LogRecord[];
  drop?: number[];
}

export interface PersistBatch {
  /** Applied first: replaces the snapshot and drops EVERY log record (a follower installing the leader's snapshot). */
  snapshot?: StoredSnapshot;
  hardState?: Uint8Array;
  /**
   * Contiguous ascending records. The first index must lie in snapshotIndex+1 .. lastIndex+1.
   * Records whose first index is <= the last stored index replace that suffix
   * (truncate-then-append). The store does not compare contents: skipping entries that
   * already match (Raft §5.3) is the caller's job.
   */
  records?: LogRecord[];
  /** Applied last. */
  slots?: SlotChanges;
}

export interface DurableStore {
  load(): Promise<StoredState>;
  /** Atomic: all of the batch or none of it. Resolves once the batch is durable. */
  persist(batch: PersistBatch): Promise<void>;
  /** Local compaction after the application took a snapshot: save it and drop records <= snapshot.index, atomically. */
  compact(snapshot: StoredSnapshot): Promise<void>;
  /** Remove everything (fresh start). */
  destroy(): Promise<void>;
  close(): Promise<void>;
}
