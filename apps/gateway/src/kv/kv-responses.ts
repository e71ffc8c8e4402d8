import type { KeyEffect, KvItem } from '@app/consensus/kv';
import { loadValue, loadValueOrNull, type JsonValue } from './json-value';

/** Values are the JSON values clients wrote (json-value.ts): every answer carrying one goes through here. */
export type PutResponse = { key: string; value: JsonValue; revision: number };
export type DeleteResponse = { key: string; deleted: boolean; revision: number };
export type CasResponse = { succeeded: boolean; value: JsonValue; revision: number };

/**
 * The REST shape of a result. Shaped by the result's own op: a retried Idempotency-Key gets the
 * first answer (a retry asks the same: KvService.write refuses a key reused for another request).
 */
export function presentResult(r: KeyEffect): PutResponse | DeleteResponse | CasResponse {
  switch (r.op) {
    case 'put':
      return { key: r.key, value: loadValue(r.value), revision: r.revision };
    case 'delete':
      return { key: r.key, deleted: r.deleted, revision: r.revision };
    case 'cas':
      return { succeeded: r.succeeded, value: loadValueOrNull(r.value), revision: r.revision };
  }
}

export type ItemResponse = { key: string; value: JsonValue; revision: number; createRevision: number; modRevision: number; version: number; lease?: string };

export function presentItem(item: KvItem): ItemResponse {
  return {
    key: item.key,
    value: loadValue(item.value),
    revision: item.revision,
    createRevision: item.createRevision,
    modRevision: item.modRevision,
    version: item.version,
    ...(item.lease === undefined ? {} : { lease: item.lease }),
  };
}
