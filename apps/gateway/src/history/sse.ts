import type { KvEvent } from '@app/consensus/kv';
import { loadValue, loadValueOrNull, type JsonValue } from '../kv/json-value';

/**
 * Server-Sent Events frames of a watch (text/event-stream). A change is `event: put|delete` with
 * `id: <revision>`; its data is one line of JSON (JSON.stringify never writes a raw newline).
 */

/** What a watcher receives for one change: the key's new value (null when deleted) and the one it replaced. */
export function changeData(e: KvEvent): { key: string; value: JsonValue; revision: number; prevValue?: JsonValue } {
  return { key: e.key, value: loadValueOrNull(e.value), revision: e.revision, ...(e.prev === null ? {} : { prevValue: loadValue(e.prev.value) }) };
}

/** The changes of whole revisions, as one chunk: a revision is written at once, never half. */
export function changeFrames(events: readonly KvEvent[]): string {
  let out = '';
  for (const e of events) out += `id: ${e.revision}\nevent: ${e.value === null ? 'delete' : 'put'}\ndata: ${JSON.stringify(changeData(e))}\n\n`;
  return out;
}

/** Nothing changed up to `revision`: a resume point too (its id), so a reconnect need not replay the idle time. */
export function progressFrame(revision: number): string {
  return `id: ${revision}\nevent: progress\ndata: ${JSON.stringify({ revision })}\n\n`;
}

/** The watcher fell behind the compaction point: the stream ends; start again from compactRevision + 1 or later. */
export function compactedFrame(compactRevision: number): string {
  return `event: compacted\ndata: ${JSON.stringify({ compactRevision })}\n\n`;
}
