import type { Item, JsonValue, SynodClient } from './client';
import { SynodCompactedError, SynodLeaseLostError } from './errors';
import type { LeaseHandle } from './lease';
import { op } from './txn';

/**
 * Locks and elections share one queue, etcd's (client/v3/concurrency): each contender puts a key
 * `<name>/<lease id>` attached to its own lease, and the key with the lowest createRevision holds.
 * A contender that does not hold watches only the key just before its own (no herd when the
 * holder leaves), and when that key goes it lists the queue again rather than assume its turn has
 * come: the key before it may have gone because its lease expired while the holder is still there.
 * A contender that dies leaves nothing behind for long: its key goes with its lease.
 *
 * What a lock does NOT give (Kleppmann, "How to do distributed locking"; Jepsen on etcd 3.4.3): a
 * holder that pauses (GC, swap, a stopped VM) longer than its TTL loses its lease, and the next
 * contender gets the lock while the first still believes it holds it. So a lock comes with a
 * fencing token — its key's createRevision, which grows with each holder, since a later holder's
 * key was created after the earlier one's — and a resource the lock protects must refuse a
 * request whose token is below the highest it has seen.
 */

export interface LockOptions {
  /** The TTL of the lock's own lease (default 10 s): how long a crashed holder blocks the others. */
  ttlSeconds?: number;
  /** Aborts the wait (and gives back the key and the lease taken for it): lock() throws the signal's reason. */
  signal?: AbortSignal;
  /**
   * A lease of yours (client.lease()) instead of one of the lock's own: unlock() then leaves it
   * alive. A lease can queue for a given name once at a time (its key is `<name>/<lease id>`).
   */
  lease?: LeaseHandle;
}

/** A held lock. */
export interface Lock {
  name: string;
  /** Its key in the queue, `<name>/<lease id>`. */
  key: string;
  /** The key's createRevision: higher than every earlier holder's. Hand it to what the lock protects. */
  fencingToken: number;
  lease: LeaseHandle;
  /**
   * Resolves when the lock is no longer known to be held: its lease lost (see LeaseHandle.lost), or
   * its key deleted (`key-deleted`) — and on unlock() (`revoked` or `closed`). Stop using the
   * resource then; the fencing token guards the time it takes to notice.
   */
  lost: Promise<SynodLeaseLostError>;
  /** Deletes the key and revokes the lock's own lease: the next in the queue gets the lock. */
  unlock(): Promise<void>;
}

export interface Queue {
  /** Ordered by createRevision: the first holds. */
  entries: Item<JsonValue>[];
  /** The revision the first page was read at: a watch from the one after misses nothing that changed since. */
  revision: number;
}

/** A held place at the head of a queue: what Lock and Leadership are made of. */
export interface Held {
  key: string;
  createRevision: number;
  lease: LeaseHandle;
  ownLease: boolean;
  lost: Promise<SynodLeaseLostError>;
  /** Stops watching the key (before it is deleted on purpose) and resolves `lost` with `revoked`. */
  stopWatching(): void;
}

/** The queue's prefix: `<name>/`, so that a name is no prefix of another's keys ("a" and "ab"). */
export const queuePrefix = (name: string): string => `${name}/`;

/** Whether `key` is an entry of queue `name`: `<name>/<lease>`, not a key of a deeper name's queue (`<name>/x/<lease>`). */
export const inQueue = (name: string, key: string): boolean => key.startsWith(queuePrefix(name)) && !key.slice(queuePrefix(name).length).includes('/');

export async function lock(client: SynodClient, name: string, opts: LockOptions = {}): Promise<Lock> {
  const h = await acquire(client, name, client.clientId, opts);
  return {
    name,
    key: h.key,
    fencingToken: h.createRevision,
    lease: h.lease,
    lost: h.lost,
    unlock: () => release(client, h),
  };
}

/**
 * Joins the queue of `name` with `value` and waits for the head: a lease (its own unless given),
 * the key, the wait. Whatever goes wrong on the way (an abort, the lease lost while waiting), the
 * key and the lease taken for it are given back before the error is thrown, so that the contenders
 * behind are not held up for a TTL.
 */
export async function acquire(client: SynodClient, name: string, value: JsonValue, opts: LockOptions): Promise<Held> {
  if (name === '') throw new TypeError('a lock or election name must not be empty');
  const signal = opts.signal;
  signal?.throwIfAborted();
  const ownLease = opts.lease === undefined;
  const lease = opts.lease ?? (await client.lease(opts.ttlSeconds ?? 10, { signal }));
  const key = `${queuePrefix(name)}${lease.id}`;
  // Whether the key may be ours: from the moment the transaction is sent (its answer may be lost).
  let mayBeOurs = false;
  try {
    mayBeOurs = true;
    const createRevision = await enqueue(client, key, value, lease, signal);
    const { revision } = await waitForHead(client, name, key, createRevision, lease, signal);
    const watching = new AbortController();
    const keyGone = watchKeyGone(client, key, createRevision, revision + 1, lease, watching.signal);
    // Losing the key ends our own lease's keepalives: nothing is left for them to keep.
    if (ownLease) void keyGone.then(() => lease.close());
    let letGo!: (err: SynodLeaseLostError) => void;
    const released = new Promise<SynodLeaseLostError>((r) => (letGo = r));
    const lost = Promise.race([lease.lost, keyGone, released]);
    return {
      key,
      createRevision,
      lease,
      ownLease,
      lost,
      stopWatching: () => {
        watching.abort();
        letGo(new SynodLeaseLostError(lease.id, 'revoked', `${key} given back by this client`));
      },
    };
  } catch (err) {
    // In the background: the caller's abort must not wait for a cluster that may not answer.
    void giveBack(client, mayBeOurs && !(err instanceof QueuedAlready) ? key : null, ownLease ? lease : null);
    throw err;
  }
}

/** Gives a held place back: the key first (the next contender may go on), then the lock's own lease. */
export async function release(client: SynodClient, h: Held): Promise<void> {
  h.stopWatching();
  try {
    // Only our key as created (never one a later use of a shared lease made), and only while it is.
    await client.txn().if(h.key, 'createRevision', '=', h.createRevision).then(op.delete(h.key)).commit();
  } finally {
    if (h.ownLease) await h.lease.revoke();
  }
}

async function giveBack(client: SynodClient, key: string | null, lease: LeaseHandle | null): Promise<void> {
  if (key !== null) await client.delete(key).catch(() => undefined);
  if (lease !== null) await lease.revoke().catch(() => undefined);
}

/**
 * Puts the key only if it does not exist (createRevision 0), attached to the lease, in one
 * transaction; returns its createRevision (the transaction's revision). A retry after a lost answer
 * carries the same Idempotency-Key, so it cannot find its own key and take it for another's.
 */
async function enqueue(client: SynodClient, key: string, value: JsonValue, lease: LeaseHandle, signal?: AbortSignal): Promise<number> {
  const r = await client
    .txn()
    .if(key, 'createRevision', '=', 0)
    .then(op.put(key, value, { lease: lease.id }))
    .else(op.get(key))
    .commit({ signal });
  if (r.succeeded) return r.revision;
  throw new QueuedAlready(`${key} exists already: lease ${lease.id} is queued for this name already (one place per lease and name)`);
}

/** The key of this lease and name is there already: another lock() or campaign() of the lease's; not ours to delete. */
class QueuedAlready extends Error {}

/** Every key under the queue's prefix (every page), ordered by createRevision. */
export async function listQueue(client: SynodClient, name: string, signal?: AbortSignal): Promise<Queue> {
  const entries: Item<JsonValue>[] = [];
  let revision: number | undefined;
  let after: string | undefined;
  for (;;) {
    const p = await client.page<JsonValue>(queuePrefix(name), { after, limit: 500, signal });
    revision ??= p.revision;
    entries.push(...p.items.filter((i) => inQueue(name, i.key)));
    if (p.next === null) break;
    after = p.next;
  }
  entries.sort((a, b) => a.createRevision - b.createRevision);
  return { entries, revision };
}

/**
 * Lists the queue until our key is at its head; meanwhile waits for the key before ours to go.
 * Throws when our key is no longer there (its lease expired or was revoked while we waited).
 */
async function waitForHead(client: SynodClient, name: string, key: string, createRevision: number, lease: LeaseHandle, signal?: AbortSignal): Promise<Queue> {
  for (;;) {
    signal?.throwIfAborted();
    if (lease.lostError !== null) throw lease.lostError;
    const q = await listQueue(client, name, signal);
    const mine = q.entries.findIndex((e) => e.key === key && e.createRevision === createRevision);
    if (mine < 0) throw new SynodLeaseLostError(lease.id, 'key-deleted', `${key} was deleted while it waited (its lease expired or was revoked)`);
    if (mine === 0) return q;
    await waitDeleted(client, q.entries[mine - 1], q.revision + 1, lease, signal);
  }
}

/** Returns when `before` is deleted (or its history is compacted: the caller lists again); throws on abort or a lost lease. */
async function waitDeleted(client: SynodClient, before: Item<JsonValue>, fromRevision: number, lease: LeaseHandle, signal?: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  signal?.addEventListener('abort', abort);
  void lease.lost.then(abort);
  try {
    // A watch per wait, closed by the `return` when it ends; it reconnects across gateways without a hole.
    for await (const e of client.watch({ key: before.key }, { fromRevision, signal: stop.signal })) {
      if (e.type === 'delete') return;
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (lease.lostError !== null) throw lease.lostError;
    if (err instanceof SynodCompactedError) return;
    throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
    stop.abort();
  }
  // The watch ended without a delete: only an abort does that.
  if (signal?.aborted) throw signal.reason;
  if (lease.lostError !== null) throw lease.lostError;
}

/**
 * Resolves when the held key is deleted (or, after a compaction hid its history, found gone or
 * re-created); never while `stop` is not aborted and the key stands. On any other end of the
 * watch it gives up quietly: the lease's own loss still resolves `lost`.
 */
function watchKeyGone(
  client: SynodClient,
  key: string,
  createRevision: number,
  fromRevision: number,
  lease: LeaseHandle,
  stop: AbortSignal,
): Promise<SynodLeaseLostError> {
  const gone = (): SynodLeaseLostError => new SynodLeaseLostError(lease.id, 'key-deleted', `${key} was deleted: the lock or leadership is lost`);
  const watching = new AbortController();
  stop.addEventListener('abort', () => watching.abort());
  void lease.lost.then(() => watching.abort());
  return new Promise((resolve) => {
    void (async () => {
      let from = fromRevision;
      for (;;) {
        try {
          for await (const e of client.watch({ key }, { fromRevision: from, signal: watching.signal, deadlineMs: Infinity })) {
            if (e.type === 'delete') return resolve(gone());
          }
          return;
        } catch (err) {
          if (watching.signal.aborted || !(err instanceof SynodCompactedError)) return;
          const p = await client.page<JsonValue>(key, { limit: 1 }).catch(() => null);
          if (p === null) return;
          const item = p.items[0];
          if (item?.key !== key || item.createRevision !== createRevision) return resolve(gone());
          from = p.revision + 1;
        }
      }
    })();
  });
}
