import { StorageError } from './errors';
import { LuaScript, RedisClient } from './lua-script';
import { storeKeys } from './redis-keys';
import { COMPACT, PERSIST } from './redis-scripts';
import { checkBatch, checkSnapshot } from './validate';
import type { DurableStore, LogRecord, PersistBatch, StoredSnapshot, StoredState } from './types';

export interface RedisStoreOptions {
  /** The caller owns the client: close() does not quit it. */
  redis: RedisClient;
  cluster: string;
  node: string;
  /** XRANGE COUNT per round trip in load(). */
  pageSize?: number;
}

const EMPTY = Buffer.alloc(0);

/** A view, not a copy: ioredis only needs Buffers to send bytes as they are. */
const asBuffer = (data: Uint8Array): Buffer => (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** Reply buffers are slices of socket chunks; copy so a record does not pin a whole chunk. */
const own = (data: Buffer): Buffer => Buffer.from(data);

const indexOfId = (id: Buffer): number => Number(id.toString('latin1').split('-')[1]);

/**
 * One replica's log, hard state and snapshot in Redis (see redis-scripts.ts for the layout).
 * persist() and compact() are one Lua script each, hence atomic and one round trip; the
 * reply comes after the AOF fsync when Redis runs with `appendfsync always`.
 *
 * One store instance should be the only writer of its keys, and load() must not race with
 * writes (it pages through the log in several round trips). A persist() whose connection
 * drops may or may not have been applied: reload before trusting either outcome.
 */
export class RedisStore implements DurableStore {
  readonly keys: ReturnType<typeof storeKeys>;
  private readonly redis: RedisClient;
  private readonly pageSize: number;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(opts: RedisStoreOptions) {
    this.redis = opts.redis;
    this.keys = storeKeys(opts.cluster, opts.node);
    this.pageSize = opts.pageSize ?? 1000;
    if (!Number.isSafeInteger(this.pageSize) || this.pageSize < 1) throw new Error(`invalid pageSize ${opts.pageSize}`);
  }

  load(): Promise<StoredState> {
    return this.track(async () => {
      const { log, hardState, snapshot, slots: slotsKey } = this.keys;
      // The first page with the hard state, snapshot and slots, in one MULTI so that they agree.
      const replies = await this.redis
        .multi()
        .getBuffer(hardState)
        .hmgetBuffer(snapshot, 'index', 'data')
        .xrangeBuffer(log, '-', '+', 'COUNT', this.pageSize)
        .hgetallBuffer(slotsKey)
        .exec();
      if (!replies) throw new Error('load transaction aborted');
      for (const [err] of replies) if (err) throw err;
      const hs = replies[0][1] as Buffer | null;
      const [snapIndex, snapData] = replies[1][1] as (Buffer | null)[];
      let page = replies[2][1] as [Buffer, Buffer[]][];
      const slotHash = (replies[3][1] ?? {}) as Record<string, Buffer>;
      const slots: LogRecord[] = Object.entries(slotHash)
        .map(([k, v]) => ({ index: Number(k), data: own(v) }))
        .sort((a, b) => a.index - b.index);

      const snap: StoredSnapshot | null = snapIndex && snapData ? { index: Number(snapIndex.toString('latin1')), data: own(snapData) } : null;
      const records: LogRecord[] = [];
      let expected = (snap?.index ?? 0) + 1;
      for (;;) {
        for (const [id, fields] of page) {
          const index = indexOfId(id);
          if (index !== expected) {
            throw new StorageError('CORRUPT', `${log}: expected index ${expected}, found stream id ${id.toString()}`);
          }
          records.push({ index, data: own(dataField(fields)) });
          expected++;
        }
        if (page.length < this.pageSize) break;
        const after = `(${page[page.length - 1][0].toString('latin1')}`;
        page = await this.redis.xrangeBuffer(log, after, '+', 'COUNT', this.pageSize);
      }
      return { hardState: hs && own(hs), snapshot: snap, records, slots };
    });
  }

  persist(batch: PersistBatch): Promise<void> {
    return this.track(async () => {
      checkBatch(batch);
      const records = batch.records ?? [];
      const puts = batch.slots?.put ?? [];
      const drops = batch.slots?.drop ?? [];
      if (!batch.snapshot && !batch.hardState && records.length === 0 && puts.length === 0 && drops.length === 0) return;
      const args: (string | Buffer)[] = [
        batch.snapshot ? String(batch.snapshot.index) : '',
        batch.snapshot ? asBuffer(batch.snapshot.data) : EMPTY,
        batch.hardState ? '1' : '0',
        batch.hardState ? asBuffer(batch.hardState) : EMPTY,
        records.length > 0 ? String(records[0].index) : '',
        String(records.length),
        String(puts.length),
        String(drops.length),
      ];
      for (const r of records) args.push(asBuffer(r.data));
      for (const r of puts) args.push(String(r.index), asBuffer(r.data));
      for (const i of drops) args.push(String(i));
      const { log, hardState, snapshot, meta, slots } = this.keys;
      await this.eval(PERSIST, [log, hardState, snapshot, meta, slots], args);
    });
  }

  compact(snap: StoredSnapshot): Promise<void> {
    return this.track(async () => {
      checkSnapshot(snap);
      await this.eval(COMPACT, [this.keys.log, this.keys.snapshot, this.keys.slots], [String(snap.index), asBuffer(snap.data)]);
    });
  }

  destroy(): Promise<void> {
    return this.track(async () => {
      const { log, hardState, snapshot, meta, slots } = this.keys;
      await this.redis.del(log, hardState, snapshot, meta, slots);
    });
  }

  /** Waits for calls in flight, then refuses new ones. The Redis client stays open. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
  }

  private async eval(script: LuaScript, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await script.run(this.redis, keys, args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const m = /^SYNOD_(CONFLICT|CORRUPT) (.*)$/s.exec(message);
      if (m) throw new StorageError(m[1] as 'CONFLICT' | 'CORRUPT', `${keys[0]}: ${m[2]}`);
      throw err;
    }
  }

  private track<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageError('CLOSED', `store ${this.keys.log} is closed`));
    const p = op();
    this.inflight.add(p);
    const forget = (): void => void this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }
}

function dataField(fields: Buffer[]): Buffer {
  // Entries are written as a single field pair: d <data>.
  if (fields.length !== 2 || fields[0].toString('latin1') !== 'd') throw new StorageError('CORRUPT', 'unexpected stream entry fields');
  return fields[1];
}
