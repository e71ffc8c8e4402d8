/**
 * One-off benchmark: frames/s through one Redis on loopback, 1 publisher -> 1 subscriber, both buses in
 * this one Node process (so they share a core; redis-server runs beside it).
 * Run: npx ts-node --transpile-only -r tsconfig-paths/register libs/bus/bench/throughput.ts
 *
 * The publisher keeps at most WINDOW frames in flight, so that the subscriber is measured, not the
 * size of Redis's output buffer (a subscriber too far behind is cut off by client-output-buffer-limit).
 */
import { startRedis } from '../../../test/support/redis-server';
import { Bus, CLIENT_PRINCIPAL, testBusKeys } from '../src';

const WINDOW = 20_000;
// Every frame is sealed (1 MAC, a direct frame) and checked, as in a real cluster.
const REPLICAS = ['n1', 'n2'];
const keys = testBusKeys([...REPLICAS, CLIENT_PRINCIPAL]);
const CHUNK = 500; // frames sent per turn of the event loop

const heartbeat = { type: 'AppendEntries', term: 7, leaderId: 'n1', prevLogIndex: 999, prevLogTerm: 7, entries: [], leaderCommit: 998 };
const batch64 = {
  ...heartbeat,
  entries: Array.from({ length: 64 }, (_, i) => ({ index: 1000 + i, term: 7, command: Buffer.from(`{"op":"set","key":"k${i}","value":"v${i}"}`) })),
};

async function run(url: string, label: string, body: unknown, total: number, perBatch: number): Promise<void> {
  const cluster = `bench-${label.replace(/\W+/g, '-')}`;
  const pub = new Bus({ url, cluster, self: 'n1', auth: { keys: keys('n1'), replicas: REPLICAS } });
  const sub = new Bus({ url, cluster, self: 'n2', auth: { keys: keys('n2'), replicas: REPLICAS } });
  let received = 0;
  sub.onFrame(() => {
    received++;
  });
  await Promise.all([pub.start(), sub.start()]);

  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < total) {
    while (sent - received > WINDOW) await new Promise((r) => setImmediate(r));
    const n = Math.min(CHUNK, total - sent);
    if (perBatch > 1) {
      for (let i = 0; i < n; i += perBatch) {
        pub.batch(() => {
          for (let j = i; j < Math.min(i + perBatch, n); j++) pub.send('n2', body);
        });
      }
    } else {
      for (let i = 0; i < n; i++) pub.send('n2', body);
    }
    sent += n;
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 30_000;
  while (received < total - pub.counters.dropped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `${label.padEnd(44)} ${Math.round(received / seconds)
      .toLocaleString('en-US')
      .padStart(9)} frames/s` + `  (${received}/${total} received, ${pub.counters.dropped} dropped, ${rejected(sub)} refused, ${seconds.toFixed(2)} s)`,
  );
  await Promise.all([pub.stop(), sub.stop()]);
}

function rejected(bus: Bus): number {
  return Object.values(bus.counters.rejected).reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const redis = await startRedis({ appendfsync: 'no' });
  try {
    await run(redis.url, 'warm-up', heartbeat, 20_000, 1);
    await run(redis.url, 'heartbeat, send() one by one', heartbeat, 200_000, 1);
    await run(redis.url, 'heartbeat, batch() of 50', heartbeat, 200_000, 50);
    await run(redis.url, '64 binary entries (4.3 kB), one by one', batch64, 20_000, 1);
    await run(redis.url, '64 binary entries (4.3 kB), batch() of 50', batch64, 20_000, 50);
  } finally {
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
