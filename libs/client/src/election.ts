import type { JsonValue, ReadOptions, SynodClient } from './client';
import { SynodCompactedError, SynodLeaseLostError } from './errors';
import type { LeaseHandle } from './lease';
import { acquire, inQueue, listQueue, queuePrefix, release, type LockOptions } from './lock';
import { op } from './txn';
import type { WatchEvent } from './watch';

/**
 * Leader election (etcd's concurrency.Election) on the lock's queue (lock.ts): the campaigner whose
 * key has the lowest createRevision leads, and its key holds the value it proclaims. The same
 * caveat as for a lock: a leader that pauses past its TTL may still believe it leads after another
 * was elected, so what a leader commands should carry `revision` as a fencing token.
 */

export type CampaignOptions = LockOptions;

/** Leading `name`: what campaign() resolves with. */
export interface Leadership<V extends JsonValue = JsonValue> {
  name: string;
  /** Its key, `<name>/<lease id>`. */
  key: string;
  /** The key's createRevision: higher than every earlier leader's (a fencing token). */
  revision: number;
  lease: LeaseHandle;
  /** As Lock.lost: resolves when the leadership is no longer known to be held (and on resign()). */
  lost: Promise<SynodLeaseLostError>;
  /** Steps down: deletes the key and revokes the campaign's own lease; the next campaigner leads. */
  resign(): Promise<void>;
  /** Changes the value observers see; throws SynodLeaseLostError when no longer the leader. */
  proclaim(value: V): Promise<void>;
}

/** The leader as others see it. */
export interface Leader<V extends JsonValue = string> {
  key: string;
  value: V;
  /** Its key's createRevision: its fencing token. */
  revision: number;
}

export interface ObserveOptions {
  /** Aborting ends the iteration (it throws the signal's reason). */
  signal?: AbortSignal;
}

/** A transaction's events (one revision) arrive together: this long without another is the end of one. */
const SETTLE_MS = 20;

export async function campaign(client: SynodClient, name: string, value: JsonValue, opts: CampaignOptions = {}): Promise<Leadership> {
  const h = await acquire(client, name, value, opts);
  return {
    name,
    key: h.key,
    revision: h.createRevision,
    lease: h.lease,
    lost: h.lost,
    resign: () => release(client, h),
    proclaim: async (v) => {
      if (h.lease.lostError !== null) throw h.lease.lostError;
      // Only while our key is the one we were elected with: a deleted key is a lost election, and
      // an unconditional put would create a new key — at the back of the queue, not leading.
      const r = await client
        .txn()
        .if(h.key, 'createRevision', '=', h.createRevision)
        .then(op.put(h.key, v, { lease: h.lease.id }))
        .commit();
      if (!r.succeeded) throw new SynodLeaseLostError(h.lease.id, 'key-deleted', `${h.key} is gone: no longer the leader of ${name}`);
    },
  };
}

export async function leader(client: SynodClient, name: string, opts: ReadOptions = {}): Promise<Leader<JsonValue> | null> {
  const head = (await listQueue(client, name, opts.signal)).entries[0];
  return head === undefined ? null : { key: head.key, value: head.value, revision: head.createRevision };
}

/**
 * The leader now, then each change. The queue is listed once and then kept from a watch of the
 * prefix from the listing's (first page's) revision: a key put that was not there was created at
 * the event's revision, a delete removes one. Replaying changes the later pages already show is
 * harmless — each event sets a key to what it became — so the state is exact from the first event
 * on, and every leader is reported in revision order, none skipped (unlike polling leader()). A
 * revision's events are applied together before the leader is looked at, so a transaction (or
 * leases expiring at once) does not show a leader for a moment that never led. When the history
 * the watch needs is compacted away it lists again.
 */
export async function* observe(client: SynodClient, name: string, opts: ObserveOptions = {}): AsyncGenerator<Leader<JsonValue> | null, void, undefined> {
  let last: string | undefined;
  for (;;) {
    const q = await listQueue(client, name, opts.signal);
    const queue = new Map(q.entries.map((e) => [e.key, { createRevision: e.createRevision, value: e.value }]));
    const head = (): Leader<JsonValue> | null => {
      let best: Leader<JsonValue> | null = null;
      for (const [key, e] of queue) if (best === null || e.createRevision < best.revision) best = { key, value: e.value, revision: e.createRevision };
      return best;
    };
    const changed = (): Leader<JsonValue> | null | undefined => {
      const now = head();
      const text = JSON.stringify(now);
      if (text === last) return undefined;
      last = text;
      return now;
    };
    const first = changed();
    if (first !== undefined) yield first;
    const events = client.watch<JsonValue>({ prefix: queuePrefix(name) }, { fromRevision: q.revision + 1, signal: opts.signal, deadlineMs: Infinity });
    try {
      let next = events.next();
      for (;;) {
        const r = await next;
        if (r.done) return;
        if (inQueue(name, r.value.key)) apply(queue, r.value);
        next = events.next();
        const following = await settled(next, SETTLE_MS);
        if (following !== null && !following.done && following.value.revision === r.value.revision) continue;
        const now = changed();
        if (now !== undefined) yield now;
      }
    } catch (err) {
      if (!(err instanceof SynodCompactedError)) throw err;
    } finally {
      await events.return?.();
    }
  }
}

function apply(queue: Map<string, { createRevision: number; value: JsonValue }>, e: WatchEvent<JsonValue>): void {
  if (e.type === 'delete') {
    queue.delete(e.key);
    return;
  }
  const had = queue.get(e.key);
  queue.set(e.key, { createRevision: had?.createRevision ?? e.revision, value: e.value as JsonValue });
}

/** The promise's result if it settles within `ms`, else null (it keeps running: await it later). */
async function settled<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } catch {
    return null; // its rejection comes again when the loop awaits it
  } finally {
    clearTimeout(timer);
  }
}
