export type { DurableStore, LogRecord, PersistBatch, SlotChanges, StoredSnapshot, StoredState } from './types';
export type { StorageErrorCode } from './errors';
export { StorageError } from './errors';
export { MemoryStore } from './memory-store';
export type { RedisStoreOptions } from './redis-store';
export { RedisStore } from './redis-store';
export type { StoreKeys } from './redis-keys';
export { storeKeys } from './redis-keys';
