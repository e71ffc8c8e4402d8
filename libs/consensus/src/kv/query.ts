import type { KvStateMachine } from './state-machine';
import type { KvEvent, KvItem } from './types';

/** A read query's answer, the same from both runtimes and the gateway's test replica. */
export interface QueryAnswer {
  /** get: zero or one item. */
  items: KvItem[];
  /** changes: oldest first. */
  events?: KvEvent[];
  /** Set when the answer needs history at or below the compaction point: that point. Nothing else is. */
  compacted?: number;
  /** A get at a revision above the store's: nothing else is set. */
  future?: true;
  /** lease: the lease, null when there is none; `remainingMs` only from the replica that decides expiry. */
  lease?: { id: string; ttlSeconds: number; renewedAt: number; keys: string[]; remainingMs?: number } | null;
  /** topic: the topic's offsets and groups (null: no such topic yet). */
  topic?: import('./types').TopicInfo | null;
  /** topic-read: messages from an offset, nothing leased (a tail). */
  messages?: import('./types').TopicMessage[];
}

/** Most keys a list, and about most changes a changes query, returns. */
const MAX_ANSWER = 10_000;

function bounded(limit: unknown): number {
  return Math.max(0, Math.min(Number(limit) || 0, MAX_ANSWER));
}

/**
 * A read query off the wire (a ReadQuery of libs/wire), answered from `kv` the same way by both runtimes (PBFT matches the
 * answers of f+1 replicas byte for byte): a get (now or at a past revision), a bounded list, or
 * the changes after a revision, a lease, a topic's offsets and groups, or a topic's messages from an
 * offset (topic-read: `from` an integer >= 0, `limit` >= 1, at most 1000 returned); null for anything else.
 */
export function answerQuery(kv: KvStateMachine, q: unknown): QueryAnswer | null {
  const query = (typeof q === 'object' && q !== null ? q : {}) as Record<string, unknown>;
  const revision = query.revision;
  if (query.op === 'get' && revision === undefined) {
    const item = kv.get(String(query.key));
    return { items: item === null ? [] : [item] };
  }
  if (query.op === 'get') {
    if (!Number.isSafeInteger(revision) || (revision as number) < 0) return null;
    if ((revision as number) > kv.appliedRevision) return { items: [], future: true };
    const at = kv.getAt(String(query.key), revision as number);
    if (at !== null && 'compacted' in at) return { items: [], compacted: at.compactRevision };
    return { items: at === null ? [] : [at] };
  }
  if (query.op === 'list') {
    return { items: kv.list(String(query.prefix ?? ''), bounded(query.limit), typeof query.after === 'string' ? query.after : undefined) };
  }
  if (query.op === 'lease') return { items: [], lease: kv.lease(String(query.id)) };
  if (query.op === 'topic') return { items: [], topic: kv.topicInfo(String(query.topic)) };
  if (query.op === 'topic-read') {
    if (!Number.isSafeInteger(query.from) || (query.from as number) < 0 || !Number.isSafeInteger(query.limit) || (query.limit as number) < 1) return null;
    return { items: [], messages: kv.topicRead(String(query.topic), query.from as number, query.limit as number) };
  }
  if (query.op === 'changes' && Number.isSafeInteger(query.after) && bounded(query.limit) >= 1) {
    const key = typeof query.key === 'string' ? query.key : null;
    const prefix = String(query.prefix ?? '');
    const match = key !== null ? (k: string) => k === key : (k: string) => k.startsWith(prefix);
    const events = kv.changesSince(query.after as number, match, bounded(query.limit));
    if ('compacted' in events) return { items: [], compacted: events.compactRevision };
    return { items: [], events };
  }
  return null;
}
