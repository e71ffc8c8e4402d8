import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil } from '../testing/gateway-harness';
import { HistoryRetention } from './retention';

/**
 * Retention by age (HISTORY_RETAIN_SECONDS): the gateway compacts, through the log, up to the
 * revision it noted at least the retention ago — never anything younger. Ticks are driven by hand
 * with made-up times, against a real gateway, fake replicas running the real state machine and a
 * real Redis.
 */

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});
afterAll(async () => {
  await redis?.stop();
});

it('compacts what is older than the retention, and nothing younger', async () => {
  const cluster = await startFakeCluster(redis.url, 'retention', ['n1', 'n2', 'n3']);
  const gw = await startGateway({ BUS_URL: redis.url, CLUSTER: 'retention', NODES: 'n1,n2,n3', HISTORY_RETAIN_SECONDS: '60' }, { requestTimeoutMs: 2000 });
  try {
    await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
    const retention = gw.app.get(HistoryRetention);
    const put = async (v: string): Promise<number> => (await http(gw.base, 'PUT', '/v1/kv/k', { body: { value: v } })).body.revision;
    const t0 = 1_000_000;
    const r1 = await put('1');
    await retention.tick(t0); // notes r1
    const r2 = await put('2');
    await retention.tick(t0 + 30_000); // notes r2; r1 is 30 s old: kept
    expect(cluster.store.sm.compactRevision).toBe(0);
    await put('3');
    await retention.tick(t0 + 60_000); // r1 is now 60 s old: compacted up to it
    expect(cluster.store.sm.compactRevision).toBe(r1);
    expect((await http(gw.base, 'GET', `/v1/kv/k?revision=${r1 - 1}`)).status).toBe(410);
    expect((await http(gw.base, 'GET', `/v1/kv/k?revision=${r2}`)).body.value).toBe('2');
    await retention.tick(t0 + 90_000); // r2 is 60 s old
    expect(cluster.store.sm.compactRevision).toBe(r2);
  } finally {
    await gw.close();
    await cluster.stop();
  }
});
