import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { FakeReplica, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

jest.setTimeout(30_000);

let redis: TestRedis;
let gw: RunningGateway;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
const CLUSTER = 'healthhttp';
const REQUEST_TIMEOUT_MS = 5000;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  // No leader at first: every replica a follower (an election in progress).
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3'], { leader: null });
  gw = await startGateway(
    { BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3' },
    { requestTimeoutMs: REQUEST_TIMEOUT_MS, attemptTimeoutMs: 1000, beaconTimeoutMs: 900 },
  );
  await waitUntil('every replica heard', async () => (await http(gw.base, 'GET', '/health/ready')).body.reachable?.length === 3);
});

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
  await redis?.stop();
});

const replica = (id: string): FakeReplica => cluster.replicas.get(id) as FakeReplica;
const ready = () => http(gw.base, 'GET', '/health/ready');
const aliveOf = async (id: string): Promise<boolean> => (await http(gw.base, 'GET', '/v1/cluster')).body.nodes.find((n: { id: string }) => n.id === id).alive;

describe('gateway /health', () => {
  it('live is 200 while the process serves HTTP', async () => {
    const live = await http(gw.base, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'live', pid: expect.any(Number) });
  });

  it('no leader (quorum alive, electing): ready and /health are 503 and say the leader check failed', async () => {
    const r = await ready();
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body).toEqual({
      status: 'unready',
      leader: null,
      checks: { leader: false, quorum: true, bus: true },
      reachable: ['n1', 'n2', 'n3'],
      quorumSize: 2,
      diverged: [],
    });
    const legacy = await http(gw.base, 'GET', '/health');
    expect(legacy.status).toBe(503);
    expect(legacy.body).toEqual(r.body);
  });

  it('a leader and a quorum alive: 200', async () => {
    replica('n1').become('leader');
    await waitUntil('ready', async () => (await ready()).status === 200);
    const r = await ready();
    expect(r.body).toEqual({
      status: 'ready',
      leader: 'n1',
      checks: { leader: true, quorum: true, bus: true },
      reachable: ['n1', 'n2', 'n3'],
      quorumSize: 2,
      diverged: [],
    });
    expect((await http(gw.base, 'GET', '/health')).status).toBe(200);
    expect((await http(gw.base, 'PUT', '/v1/kv/a', { body: { value: 'one' } })).status).toBe(200);
  });

  it('a replica whose beacons stop is dead within 1 s; ready stays 200 while a majority is left', async () => {
    replica('n3').beaconing = false; // as SIGKILL: it just falls silent
    const stoppedAt = Date.now();
    await waitUntil('n3 dead', async () => !(await aliveOf('n3')), 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body.reachable).toEqual(['n1', 'n2']);
  });

  it('the quorum gone: ready 503 within 1 s, and a write answers 503 at once, nothing sent', async () => {
    replica('n2').beaconing = false;
    const stoppedAt = Date.now();
    await waitUntil('unready', async () => (await ready()).status === 503, 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
    expect((await ready()).body).toMatchObject({ status: 'unready', leader: 'n1', checks: { leader: true, quorum: false, bus: true }, reachable: ['n1'] });

    const sentBefore = replica('n1').proposals.length;
    const started = Date.now();
    const put = await http(gw.base, 'PUT', '/v1/kv/b', { body: { value: 'two' } });
    const took = Date.now() - started;
    expect(put.status).toBe(503);
    expect(put.headers.get('retry-after')).toBe('1');
    expect(put.text).toContain('no quorum reachable'); // the reason, whatever the error format
    expect(took).toBeLessThan(REQUEST_TIMEOUT_MS / 10);
    const read = await http(gw.base, 'GET', '/v1/kv/a');
    expect(read.status).toBe(503);
    expect(replica('n1').proposals.length).toBe(sentBefore);
    // A stale read needs no quorum.
    expect((await http(gw.base, 'GET', '/v1/kv/a?consistency=stale')).body).toMatchObject({ key: 'a', value: 'one' });
  });

  it('the replicas back: ready 200 and writes go through again', async () => {
    replica('n2').beaconing = true;
    replica('n3').beaconing = true;
    await waitUntil('ready again', async () => (await ready()).status === 200);
    expect((await http(gw.base, 'PUT', '/v1/kv/c', { body: { value: 'three' } })).status).toBe(200);
  });

  it('OpenAPI documents live, ready (200 and 503) and /health', async () => {
    const spec = await http(gw.base, 'GET', '/docs-json');
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/health', '/health/live', '/health/ready']));
    expect(Object.keys(spec.body.paths['/health/ready'].get.responses)).toEqual(['200', '503']);
    expect(Object.keys(spec.body.paths['/health'].get.responses)).toEqual(['200', '503']);
  });

  it('the bus Redis gone: ready 503 says bus, live stays 200', async () => {
    await redis.kill();
    try {
      await waitUntil('bus down', async () => (await ready()).body.checks.bus === false, 3000);
      const r = await ready();
      expect(r.status).toBe(503);
      expect(r.body.checks).toMatchObject({ bus: false, quorum: false });
      expect((await http(gw.base, 'GET', '/health/live')).status).toBe(200);
    } finally {
      await redis.restart();
    }
    await waitUntil(
      'the bus and the replicas heard again',
      async () => {
        const r = await ready();
        return r.body.checks.bus === true && r.body.reachable.length === 3;
      },
      10_000,
    );
  });
});
