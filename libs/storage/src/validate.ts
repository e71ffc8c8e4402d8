import { StorageError } from './errors';
import type { LogRecord, PersistBatch, StoredSnapshot } from './types';

function isIndex(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
}

function checkBytes(data: unknown, what: string): void {
  if (!(data instanceof Uint8Array)) throw new StorageError('INVALID_BATCH', `${what} is not a Uint8Array`);
}

export function checkSnapshot(snapshot: StoredSnapshot): void {
  if (!isIndex(snapshot.index, 0)) throw new StorageError('INVALID_BATCH', `snapshot index ${snapshot.index} is not an integer >= 0`);
  checkBytes(snapshot.data, 'snapshot data');
}

/** Checks what can be checked without the stored state. */
export function checkBatch(batch: PersistBatch): void {
  if (batch.snapshot !== undefined) checkSnapshot(batch.snapshot);
  if (batch.hardState !== undefined) checkBytes(batch.hardState, 'hard state');
  const records: LogRecord[] = batch.records ?? [];
  records.forEach((r, i) => {
    if (!isIndex(r.index, 1)) throw new StorageError('INVALID_BATCH', `record index ${r.index} is not an integer >= 1`);
    if (i > 0 && r.index !== records[i - 1].index + 1) {
      throw new StorageError('INVALID_BATCH', `records not contiguous: ${records[i - 1].index} then ${r.index}`);
    }
    checkBytes(r.data, `record ${r.index} data`);
  });
  for (const r of batch.slots?.put ?? []) {
    if (!isIndex(r.index, 1)) throw new StorageError('INVALID_BATCH', `slot index ${r.index} is not an integer >= 1`);
    checkBytes(r.data, `slot ${r.index} data`);
  }
  for (const i of batch.slots?.drop ?? []) {
    if (!isIndex(i, 1)) throw new StorageError('INVALID_BATCH', `slot index ${i} is not an integer >= 1`);
  }
}

/**
 * New records may start anywhere from just above the snapshot (replacing the whole log)
 * to just above the last record (a plain append); anything else would leave a gap or
 * rewrite what compaction already folded into the snapshot.
 */
export function checkPlacement(first: number, snapshotIndex: number, lastIndex: number): void {
  if (first <= snapshotIndex || first > lastIndex + 1) {
    throw new StorageError(
      'CONFLICT',
      `records starting at ${first} do not fit a log holding ${snapshotIndex + 1}..${lastIndex} (snapshot at ${snapshotIndex})`,
    );
  }
}

export function checkCompaction(index: number, snapshotIndex: number): void {
  if (index < snapshotIndex) {
    throw new StorageError('CONFLICT', `compaction to ${index} would regress the snapshot at ${snapshotIndex}`);
  }
}
