import type { KvItem, KvStateMachine } from '@app/consensus/kv';

/**
 * A read query off the wire, answered from `kv` the same way by both runtimes: a get, or a list
 * bounded at 10 000 items (`after` only when a string); null for anything else.
 */
export function answerQuery(kv: KvStateMachine, q: unknown): KvItem[] | null {
  const query = (typeof q === 'object' && q !== null ? q : {}) as { op?: unknown; key?: unknown; prefix?: unknown; limit?: unknown; after?: unknown };
  if (query.op === 'get') {
    const item = kv.get(String(query.key));
    return item === null ? [] : [item];
  }
  if (query.op === 'list') {
    const limit = Math.max(0, Math.min(Number(query.limit) || 0, 10_000));
    return kv.list(String(query.prefix ?? ''), limit, typeof query.after === 'string' ? query.after : undefined);
  }
  return null;
}
