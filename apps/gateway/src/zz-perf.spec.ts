import { startRedis, type TestRedis } from '../../../test/support/redis-server';
import { startFakeCluster } from './testing/fake-replica';
import { http, startGateway, waitUntil } from './testing/gateway-harness';
jest.setTimeout(60_000);
it('perf', async () => {
  const redis: TestRedis = await startRedis({ appendfsync: 'no' });
  const cluster = await startFakeCluster(redis.url, 'perf', ['n1', 'n2', 'n3']);
  const gw = await startGateway({ BUS_URL: redis.url, CLUSTER: 'perf', NODES: 'n1,n2,n3' });
  await waitUntil('leader', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
  await http(gw.base, 'PUT', '/v1/kv/x', { body: { value: 'v' } });
  const run = async (ms: number) => { let n = 0; const end = Date.now() + ms; await Promise.all(Array.from({ length: 32 }, async () => { while (Date.now() < end) { await fetch(gw.base + '/health/live').then((r) => r.text()); n++; } })); return n / (ms / 1000); };
  await run(1000);
  const r = [await run(3000), await run(3000)];
  console.log(process.env.TMP_NOLOG, process.env.TMP_QUIET, r.map(Math.round));
  await gw.close(); await cluster.stop(); await redis.stop();
});
