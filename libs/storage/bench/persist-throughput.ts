/**
 * One-off benchmark: RedisStore.persist() on a private redis-server with appendfsync always.
 * Run: npx ts-node --transpile-only libs/storage/bench/persist-throughput.ts
 * "serial" awaits each batch (a replica that waits for durability before acknowledging);
 * "8 in flight" keeps 8 batches pipelined on the one connection (order is preserved).
 */
import Redis from 'ioredis';
import { startRedis } from '../../../test/support/redis-server';
import { RedisStore } from '../src/redis-store';

const PAYLOAD = Buffer.alloc(128, 7); // about one small KV command

async function run(redis: Redis, label: string, batchSize: number, batches: number, inFlight: number): Promise<void> {
  const store = new RedisStore({ redis, cluster: 'bench', node: `${label}-${batchSize}-${inFlight}` });
  let next = 1;
  const batch = () => {
    const records = Array.from({ length: batchSize }, (_, i) => ({ index: next + i, data: PAYLOAD }));
    next += batchSize;
    return store.persist({ hardState: PAYLOAD.subarray(0, 16), records });
  };
  const t0 = process.hrtime.bigint();
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < batches) {
      issued++;
      await batch();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const loaded = (await store.load()).records.length;
  if (loaded !== batchSize * batches) throw new Error(`expected ${batchSize * batches} records, loaded ${loaded}`);
  console.log(
    `${batchSize}-entry batches, ${label}: ${Math.round(batches / s).toLocaleString('en-US')} persist/s, ` +
      `${Math.round((batches * batchSize) / s).toLocaleString('en-US')} entries/s, ${((s / batches) * 1e3).toFixed(3)} ms/persist`,
  );
  await store.destroy();
}

async function loadLongLog(redis: Redis, count: number): Promise<void> {
  const store = new RedisStore({ redis, cluster: 'bench', node: 'load' });
  for (let from = 1; from <= count; from += 1000) {
    await store.persist({ records: Array.from({ length: 1000 }, (_, i) => ({ index: from + i, data: PAYLOAD })) });
  }
  const t0 = process.hrtime.bigint();
  const { records } = await store.load();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`load() of ${records.length.toLocaleString('en-US')} records: ${ms.toFixed(0)} ms`);
  await store.destroy();
}

async function main(): Promise<void> {
  const server = await startRedis({ appendfsync: 'always' });
  const redis = new Redis(server.port, '127.0.0.1');
  try {
    await run(redis, 'warm-up', 1, 500, 1);
    await run(redis, 'serial', 1, 3000, 1);
    await run(redis, '8 in flight', 1, 5000, 8);
    await run(redis, 'serial', 64, 1000, 1);
    await run(redis, '8 in flight', 64, 1500, 8);
    await loadLongLog(redis, 100_000);
  } finally {
    await redis.quit();
    await server.stop();
  }
}

void main();
