import { startRedis, TestRedis } from '../../../test/support/redis-server';
import { Bus } from './bus';
import { BusFleet, waitFor } from './spec-helpers';

jest.setTimeout(30_000);

let redis: TestRedis;
const fleet = new BusFleet(() => redis.url);

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});
afterAll(async () => {
  await fleet.stopAll();
  await redis.stop();
});

/** Sends until the publisher refuses synchronously, i.e. it has seen the connection go. */
async function waitUntilOffline(bus: Bus): Promise<void> {
  await waitFor('publisher offline', () => {
    const before = bus.counters.dropped;
    bus.send('nobody', 'probe');
    return bus.counters.dropped > before;
  });
}

describe('Bus across a Redis restart', () => {
  it('drops while Redis is down, reconnects, resubscribes and delivers again', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['broadcast'] });
    n1.bus.send('n2', 'before');
    await waitFor('frame before the crash', () => n2.frames.length === 1);

    await redis.kill(); // SIGKILL
    await waitUntilOffline(n1.bus);

    // Offline: no throw, no queue, every frame counted as dropped right away.
    const { sent, dropped } = n1.bus.counters;
    for (let i = 0; i < 10_000; i++) n1.bus.send('n2', { i, pad: new Uint8Array(100) });
    n1.bus.batch(() => {
      for (let i = 0; i < 10; i++) n1.bus.broadcast('broadcast', i);
    });
    expect(n1.bus.counters.sent).toBe(sent);
    expect(n1.bus.counters.dropped).toBe(dropped + 10_010);

    await redis.restart();
    // Both connections of both buses come back.
    await waitFor('reconnects', () => n1.bus.counters.reconnects >= 2 && n2.bus.counters.reconnects >= 2, 15_000);

    // 'ready' can come before the resubscription has reached Redis; pub/sub is at-most-once, so retry.
    const deadline = Date.now() + 10_000;
    while (!n2.frames.some((f) => f.body === 'after') && Date.now() < deadline) {
      n1.bus.send('n2', 'after');
      n1.bus.broadcast('broadcast', 'after-topic');
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('topic frame after restart', () => n2.frames.some((f) => f.body === 'after-topic'));

    expect(n2.frames[0]).toEqual({ from: 'n1', topic: 'direct', body: 'before' });
    const bodies = new Set(n2.frames.map((f) => f.body));
    expect(bodies).toEqual(new Set(['before', 'after', 'after-topic'])); // nothing from the outage leaked through
    expect(n2.frames.find((f) => f.body === 'after-topic')?.topic).toBe('broadcast');
    expect(n2.bus.counters.malformed).toBe(0);
    expect(n2.bus.counters.rejected).toEqual({ unknownSender: 0, badMac: 0, replayed: 0, staleIncarnation: 0 });
  });

  it('stop() while Redis is down resolves and leaves nothing reconnecting', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1', topics: ['broadcast'] });
    await redis.kill();
    await waitUntilOffline(n1.bus);
    await n1.bus.stop();
    await redis.restart();
    // Had either connection kept retrying, it would reconnect to the restarted Redis.
    await new Promise((r) => setTimeout(r, 1500));
    expect(n1.bus.counters.reconnects).toBe(0);
  });
});
