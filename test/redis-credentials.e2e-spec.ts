import Redis from 'ioredis';
import { startRedis, type TestRedis } from './support/redis-server';
import { TestCluster, waitFor } from './support/cluster';

jest.setTimeout(90_000);

const PASSWORD = 'Pw-s3cret:with@odd/chars';

/**
 * One Redis that only an ACL user with a password may use, on database 2, given to `npm start` as
 * REDIS_URL: the one URL parser must carry user, password and db to every connection (bus,
 * storage, the Nest control transport behind kill/revive, BullMQ), and no password may appear in
 * any output, /v1/cluster or /metrics.
 */
describe('a Redis URL with user, password and db, end to end', () => {
  const login = { username: 'synod', password: PASSWORD };
  let redis: TestRedis;
  let c: TestCluster;

  beforeAll(async () => {
    redis = await startRedis({ appendfsync: 'no', args: ['--user', 'default', 'off', '--user', 'synod', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'], login });
    c = await TestCluster.start([], { REDIS_URL: `redis://synod:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/2` });
  });
  afterAll(async () => {
    await c?.stop();
    await redis?.stop();
  });

  it('writes, kill/revive through the control plane, and an async batch all go through', async () => {
    expect((await c.putUntilOk('acl-1', 'one')).status).toBe(200);
    const leader = await c.waitForLeader();
    const follower = (await c.clusterState()).nodes.find((n: any) => n.id !== leader).id;
    expect((await c.admin(follower, 'kill')).status).toBe(200);
    expect((await c.put('acl-2', 'two')).status).toBe(200);
    expect((await c.admin(follower, 'revive')).status).toBe(200);
    await c.waitForConvergence(30_000);
    const job = await c.http('POST', '/v1/commands', { commands: [{ op: 'put', key: 'acl-3', value: 'three' }] });
    expect(job.status).toBe(202);
    await waitFor(async () => (await c.http('GET', `/v1/commands/${job.body.id}`)).body.state === 'completed', 20_000, 'the batch');
    expect((await c.get('acl-3')).body.value).toBe('three');
  });

  it('keeps everything in the database the URL names', async () => {
    const admin = new Redis({ port: redis.port, ...login, db: 2 });
    const other = new Redis({ port: redis.port, ...login, db: 0 });
    try {
      expect((await admin.keys('synod:*')).length).toBeGreaterThan(0);
      expect(await other.dbsize()).toBe(0);
    } finally {
      admin.disconnect();
      other.disconnect();
    }
  });

  it('never shows the password: not in any output, /v1/cluster or /metrics', async () => {
    const secrets = [PASSWORD, encodeURIComponent(PASSWORD)];
    const cluster = JSON.stringify(await c.clusterState());
    const metrics = (await c.http('GET', '/metrics')).body as string;
    for (const s of secrets) {
      expect(c.logs()).not.toContain(s);
      expect(cluster).not.toContain(s);
      expect(metrics).not.toContain(s);
    }
  });
});
