import Redis from 'ioredis';
import { startRedis, TestRedis } from '../../../test/support/redis-server';
import { StorageError } from './errors';
import { storeKeys } from './redis-keys';
import { RedisStore } from './redis-store';
import { durableStoreContract } from './store.contract';
import type { LogRecord } from './types';

jest.setTimeout(30_000);

let server: TestRedis;
let redis: Redis;
let testNo = 0;
/** A cluster name (hence key prefix) of its own for every test. */
const freshCluster = (): string => `t${++testNo}-${process.pid}`;

beforeAll(async () => {
  server = await startRedis({ appendfsync: 'always' });
  redis = new Redis(server.port, '127.0.0.1');
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

durableStoreContract('RedisStore', () => {
  const cluster = freshCluster();
  // A small page makes load() page even through the shorter logs of the contract.
  return { open: async (node) => new RedisStore({ redis, cluster, node, pageSize: 64 }) };
});

const bytes = (s: string): Buffer => Buffer.from(s);
const recs = (from: number, to: number, tag = 'v'): LogRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, data: bytes(`${tag}${from + i}`) }));
const streamIds = async (key: string): Promise<string[]> => (await redis.xrange(key, '-', '+')).map(([id]) => id);

describe('RedisStore on Redis', () => {
  it('puts one replica under one hash tag and refuses names that would break it', () => {
    expect(storeKeys('c1', 'n2')).toEqual({
      log: 'synod:{c1:n2}:log',
      hardState: 'synod:{c1:n2}:hs',
      snapshot: 'synod:{c1:n2}:snap',
      meta: 'synod:{c1:n2}:meta',
      slots: 'synod:{c1:n2}:slots',
    });
    expect(() => storeKeys('c{1', 'n2')).toThrow();
    expect(() => storeKeys('c1', 'n}2')).toThrow();
    expect(() => storeKeys('c1', 'b:c')).toThrow();
    expect(() => storeKeys('', 'n1')).toThrow();
  });

  it('uses <generation>-<index> stream ids, bumping the generation at each truncation', async () => {
    const store = new RedisStore({ redis, cluster: freshCluster(), node: 'n1' });
    const { log } = store.keys;
    await store.persist({ records: recs(1, 4) });
    expect(await streamIds(log)).toEqual(['0-1', '0-2', '0-3', '0-4']);
    await store.persist({ records: recs(2, 3, 'b') });
    expect(await streamIds(log)).toEqual(['0-1', '1-2', '1-3']);
    await store.persist({ records: recs(1, 1, 'c') });
    await store.persist({ records: recs(2, 2, 'c') });
    expect(await streamIds(log)).toEqual(['2-1', '2-2']);
    await store.compact({ index: 1, data: bytes('s1') });
    expect(await streamIds(log)).toEqual(['2-2']);
  });

  it('falls back to EVAL after the script cache is flushed', async () => {
    const store = new RedisStore({ redis, cluster: freshCluster(), node: 'n1' });
    await store.persist({ records: recs(1, 2) });
    await redis.script('FLUSH');
    await store.persist({ records: recs(3, 3) });
    await redis.script('FLUSH');
    await store.compact({ index: 1, data: bytes('s1') });
    expect((await store.load()).records.map((r) => r.index)).toEqual([2, 3]);
  });

  it('refuses to write over a stream that breaks its invariant, writing nothing', async () => {
    const store = new RedisStore({ redis, cluster: freshCluster(), node: 'n1' });
    await store.persist({ hardState: bytes('hs0'), records: recs(1, 3) });
    await redis.xdel(store.keys.log, '0-2'); // a hole made behind the store's back
    const attempt = store.persist({ hardState: bytes('hs1'), records: recs(2, 3, 'x') });
    await expect(attempt).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(store.compact({ index: 2, data: bytes('s2') })).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(await redis.get(store.keys.hardState)).toBe('hs0');
    expect(await streamIds(store.keys.log)).toEqual(['0-1', '0-3']);
    await expect(store.load()).rejects.toBeInstanceOf(StorageError);
  });

  it('close() waits for writes in flight, then refuses calls but leaves the client open', async () => {
    const store = new RedisStore({ redis, cluster: freshCluster(), node: 'n1' });
    const pending = store.persist({ records: recs(1, 50) });
    await store.close();
    expect(await redis.xlen(store.keys.log)).toBe(50);
    await expect(pending).resolves.toBeUndefined();
    await expect(store.persist({ records: recs(51, 51) })).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await redis.ping()).toBe('PONG');
  });

  it('keeps everything persist() acknowledged through a SIGKILL of redis-server (appendfsync always)', async () => {
    const own = await startRedis({ appendfsync: 'always' });
    const client = new Redis(own.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const cluster = freshCluster();
      const store = new RedisStore({ redis: client, cluster, node: 'n1' });
      const other = new RedisStore({ redis: client, cluster, node: 'n2' });
      // Many batches in flight at once, including truncations and a compaction.
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) acks.push(store.persist({ records: recs(i * 10 + 1, i * 10 + 10) }));
      acks.push(store.persist({ hardState: bytes('term=7'), records: recs(995, 1003, 't') }));
      acks.push(store.compact({ index: 400, data: bytes('snap400') }));
      acks.push(store.persist({ records: recs(1000, 1001, 'u') }));
      acks.push(other.persist({ hardState: bytes('other'), records: recs(1, 3, 'o') }));
      await Promise.all(acks);

      await own.kill();
      await own.restart();
      const fresh = new Redis(own.port, '127.0.0.1');
      try {
        const state = await new RedisStore({ redis: fresh, cluster, node: 'n1' }).load();
        expect(state.hardState?.toString()).toBe('term=7');
        expect(state.snapshot && { index: state.snapshot.index, data: Buffer.from(state.snapshot.data).toString() }).toEqual({ index: 400, data: 'snap400' });
        const expected = [...recs(401, 994), ...recs(995, 999, 't'), ...recs(1000, 1001, 'u')];
        expect(state.records.map((r) => [r.index, Buffer.from(r.data).toString()])).toEqual(expected.map((r) => [r.index, r.data.toString()]));
        const otherState = await new RedisStore({ redis: fresh, cluster, node: 'n2' }).load();
        expect(otherState.records.map((r) => r.index)).toEqual([1, 2, 3]);
        // The generation survived too: a truncation below the top still works after the restart.
        await new RedisStore({ redis: fresh, cluster, node: 'n1' }).persist({ records: recs(500, 500, 'z') });
        expect((await new RedisStore({ redis: fresh, cluster, node: 'n1' }).load()).records.at(-1)?.index).toBe(500);
      } finally {
        fresh.disconnect();
      }
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});
