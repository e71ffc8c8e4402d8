export type StorageErrorCode =
  /** The batch itself is malformed (bad index, gap inside the batch, not bytes). */
  | 'INVALID_BATCH'
  /** The batch does not fit the stored log (gap after the last index, overwrites compacted records, snapshot regresses). */
  | 'CONFLICT'
  /** The stored data breaks the store's own invariant; nothing was written. */
  | 'CORRUPT'
  | 'CLOSED';

/** Every rejection leaves the store unchanged. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'StorageError';
  }
}
