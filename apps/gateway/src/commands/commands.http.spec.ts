import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { FakeReplica, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';
import { Queue } from 'bullmq';
import { redisOptions } from '@app/config';
import { COMMANDS_QUEUE, queuePrefix } from './commands.queue';
import { jobIdFor } from './job-id';

jest.setTimeout(30_000);

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
});
afterAll(async () => {
  await redis?.stop();
});

async function settled(gw: RunningGateway, id: string, timeoutMs = 10_000): Promise<Record<string, any>> {
  let last: Record<string, any> = {};
  await waitUntil(
    `job ${id} settled`,
    async () => {
      last = (await http(gw.base, 'GET', `/v1/commands/${encodeURIComponent(id)}`)).body;
      return last.state === 'completed' || last.state === 'failed';
    },
    timeoutMs,
  );
  return last;
}

describe('command batches through BullMQ', () => {
  let gw: RunningGateway;
  let cluster: Awaited<ReturnType<typeof startFakeCluster>>;

  beforeAll(async () => {
    cluster = await startFakeCluster(redis.url, 'cmds', ['n1', 'n2', 'n3']);
    gw = await startGateway({ BUS_URL: redis.url, CLUSTER: 'cmds' }, { requestTimeoutMs: 1500, attemptTimeoutMs: 300 });
    await waitUntil('leader', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
  });
  afterAll(async () => {
    await gw?.close();
    await cluster?.stop();
  });

  it('runs a batch in order and reports its results', async () => {
    const commands = [
      { op: 'put', key: 'a', value: '1' },
      { op: 'cas', key: 'a', expected: '1', value: '2' },
      { op: 'cas', key: 'b', expected: null, value: 'new' },
      { op: 'delete', key: 'a' },
    ];
    const accepted = await http(gw.base, 'POST', '/v1/commands', { body: { commands } });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id: expect.any(String) });
    expect(accepted.headers.get('location')).toBe(`/v1/commands/${accepted.body.id}`);
    const job = await settled(gw, accepted.body.id);
    expect(job).toMatchObject({ id: accepted.body.id, state: 'completed' });
    expect(job.results).toEqual([
      { op: 'put', key: 'a', value: '1', revision: expect.any(Number) },
      { op: 'cas', key: 'a', succeeded: true, value: '2', revision: expect.any(Number) },
      { op: 'cas', key: 'b', succeeded: true, value: 'new', revision: expect.any(Number) },
      { op: 'delete', key: 'a', deleted: true, revision: expect.any(Number) },
    ]);
    const revisions = job.results.map((r: { revision: number }) => r.revision);
    expect([...revisions].sort((x, y) => x - y)).toEqual(revisions); // applied in the order given
    expect((await http(gw.base, 'GET', '/v1/kv/b')).body.value).toBe('new');
  });

  it('the same Idempotency-Key is the same job, run once', async () => {
    const headers = { 'Idempotency-Key': 'batch:42' }; // ':' is not allowed in a BullMQ id: mapped
    const body = { commands: [{ op: 'put', key: 'once', value: 'x' }] };
    const first = await http(gw.base, 'POST', '/v1/commands', { body, headers });
    const second = await http(gw.base, 'POST', '/v1/commands', { body, headers });
    expect(first.body.id).toBe(jobIdFor('batch:42'));
    expect(second.body.id).toBe(first.body.id);
    await settled(gw, first.body.id);
    const plain = await http(gw.base, 'POST', '/v1/commands', { body, headers: { 'Idempotency-Key': 'plain-key' } });
    expect(plain.body.id).toBe('plain-key');
    await settled(gw, 'plain-key');
    const leader = cluster.replicas.get('n1') as FakeReplica;
    const applied = leader.proposals.flatMap((p) => p.requests).filter((r) => (r.cmd as { key?: string }).key === 'once');
    expect(new Set(applied.map((r) => r.id)).size).toBe(2); // one request id per job
  });

  it('the same Idempotency-Key with another batch → 422, nothing queued; the first job is untouched', async () => {
    const headers = { 'Idempotency-Key': 'batch-reused' };
    const first = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'put', key: 'reuse-a', value: '1' }] }, headers });
    expect(first.status).toBe(202);
    const other = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'put', key: 'reuse-b', value: '1' }] }, headers });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({
      type: 'https://synod.dev/problems/idempotency-key-reused',
      status: 422,
      detail: expect.stringContaining('"batch-reused" was already used for a different batch'),
      field: 'Idempotency-Key',
      instance: '/v1/commands',
    });
    // members in another order are the same batch
    const same = await http(gw.base, 'POST', '/v1/commands', { body: '{"commands":[{"value":"1","key":"reuse-a","op":"put"}]}', headers });
    expect(same.status).toBe(202);
    expect(same.body.id).toBe(first.body.id);
    const job = await settled(gw, first.body.id);
    expect(job.results).toEqual([{ op: 'put', key: 'reuse-a', value: '1', revision: expect.any(Number) }]);
    expect((await http(gw.base, 'GET', '/v1/kv/reuse-b')).status).toBe(404);
    // every command carries the batch's fingerprint into the state machine
    const sent = (cluster.replicas.get('n1') as FakeReplica).proposals.flatMap((p) => p.requests).filter((r) => (r.cmd as { key?: string }).key === 'reuse-a');
    expect(sent[0]).toMatchObject({ id: `job:${first.body.id}/1`, fingerprint: expect.any(String) });
  });

  it('a job id used again for another batch after the first job was removed: the batch fails, nothing applied', async () => {
    const headers = { 'Idempotency-Key': 'batch-recycled' };
    const first = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'put', key: 'recycled', value: 'first' }] }, headers });
    await settled(gw, first.body.id);
    // BullMQ forgets completed jobs (after an hour, or past 10 000): the state machine still knows the ids
    const queue = new Queue(COMMANDS_QUEUE, { connection: redisOptions(redis.url).options, prefix: queuePrefix(gw.config) });
    try {
      await queue.remove(first.body.id);
    } finally {
      await queue.close();
    }
    const again = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'put', key: 'recycled', value: 'second' }] }, headers });
    expect(again.status).toBe(202);
    const job = await settled(gw, again.body.id);
    expect(job.state).toBe('failed');
    expect(job.error).toContain('already used by a different batch');
    expect((await http(gw.base, 'GET', '/v1/kv/recycled')).body.value).toBe('first');
  });

  it('unknown job → 404', async () => {
    const res = await http(gw.base, 'GET', '/v1/commands/never-submitted');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/not-found', status: 404, detail: expect.any(String), id: 'never-submitted' });
  });
});

describe('a batch submitted while there is no leader', () => {
  it('is retried with backoff and completes once a leader appears', async () => {
    const cluster = await startFakeCluster(redis.url, 'cmds-late', ['n1', 'n2', 'n3'], { leader: null });
    const gw = await startGateway({ BUS_URL: redis.url, CLUSTER: 'cmds-late' }, { requestTimeoutMs: 300, attemptTimeoutMs: 100, commandBackoffMs: 100 });
    try {
      const accepted = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'put', key: 'k', value: 'v' }] } });
      expect(accepted.status).toBe(202);
      await waitUntil('a failed attempt', async () => (await http(gw.base, 'GET', `/v1/commands/${accepted.body.id}`)).body.attemptsMade >= 1);
      const retrying = (await http(gw.base, 'GET', `/v1/commands/${accepted.body.id}`)).body;
      expect(['delayed', 'waiting', 'active']).toContain(retrying.state);
      expect(retrying.error).toContain('no leader');
      (cluster.replicas.get('n2') as FakeReplica).become('leader', 2);
      const job = await settled(gw, accepted.body.id);
      expect(job.state).toBe('completed');
      expect(job.results).toEqual([{ op: 'put', key: 'k', value: 'v', revision: 1 }]);
    } finally {
      await gw.close();
      await cluster.stop();
    }
  });
});
