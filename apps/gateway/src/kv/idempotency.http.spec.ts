import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { FakeReplica, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

/**
 * Idempotency-Key: the same key with the same request (method, path, body) is one effect and the
 * first answer; with a different request it is 422 and nothing is applied (the IETF
 * idempotency-key draft). The check is the replicated state machine's (FakeStore runs the real
 * one): it keeps each request's fingerprint with its first result.
 */

jest.setTimeout(30_000);

const CLUSTER = 'idem';
let redis: TestRedis;
let gw: RunningGateway;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3' }, { requestTimeoutMs: 2000, attemptTimeoutMs: 400 });
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
  await redis?.stop();
});

const leader = (): FakeReplica => cluster.replicas.get('n1') as FakeReplica;
const get = (key: string) => http(gw.base, 'GET', `/v1/kv/${encodeURIComponent(key)}`);

function expectReused(res: { status: number; body: any; headers: Headers }, key: string, path: string): void {
  expect(res.status).toBe(422);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toEqual({
    type: 'https://synod.dev/problems/idempotency-key-reused',
    title: 'Idempotency-Key reused for a different request',
    status: 422,
    detail: expect.stringContaining(`Idempotency-Key ${JSON.stringify(key)} was already used for a different request`),
    instance: path,
    field: 'Idempotency-Key',
  });
}

describe('Idempotency-Key reused for a different request', () => {
  const headers = { 'Idempotency-Key': 'key-of-A' };
  let first: any;

  beforeAll(async () => {
    first = await http(gw.base, 'PUT', '/v1/kv/idemA', { body: { value: 'a' }, headers });
    expect(first.status).toBe(200);
  });

  it('a PUT of another key → 422, and that key is not written', async () => {
    expectReused(await http(gw.base, 'PUT', '/v1/kv/idemB', { body: { value: 'a' }, headers }), 'key-of-A', '/v1/kv/idemB');
    expect((await get('idemB')).status).toBe(404);
  });

  it('a PUT of the same key with another value → 422, the value stays', async () => {
    expectReused(await http(gw.base, 'PUT', '/v1/kv/idemA', { body: { value: 'other' }, headers }), 'key-of-A', '/v1/kv/idemA');
    expect((await get('idemA')).body).toMatchObject(first.body);
  });

  it('a DELETE → 422, nothing deleted', async () => {
    expectReused(await http(gw.base, 'DELETE', '/v1/kv/idemA', { headers }), 'key-of-A', '/v1/kv/idemA');
    expect((await get('idemA')).body.value).toBe('a');
  });

  it('a cas → 422, nothing swapped', async () => {
    expectReused(await http(gw.base, 'POST', '/v1/kv/idemA/cas', { body: { expected: 'a', value: 'swapped' }, headers }), 'key-of-A', '/v1/kv/idemA/cas');
    expect((await get('idemA')).body.value).toBe('a');
  });

  it('the first request itself is still answered as before: the conflicts changed nothing', async () => {
    const again = await http(gw.base, 'PUT', '/v1/kv/idemA', { body: { value: 'a' }, headers });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });
});

describe('a replica that answers with the result of another request under the same id', () => {
  it('(two requests with one key in flight at once, paired by id) → 422, not that other answer', async () => {
    const store = cluster.store;
    const apply = store.apply.bind(store);
    // As a runtime that pairs answers with waiting requests by id alone would answer the second
    // of two concurrent requests under one key: with the first one's result.
    store.apply = () => [{ op: 'put', key: 'concurrent-A', value: 'a', revision: 1 }];
    try {
      const other = await http(gw.base, 'PUT', '/v1/kv/concurrent-B', { body: { value: 'a' }, headers: { 'Idempotency-Key': 'in-flight' } });
      expectReused(other, 'in-flight', '/v1/kv/concurrent-B');
      const sameKeyOtherValue = await http(gw.base, 'PUT', '/v1/kv/concurrent-A', { body: { value: 'b' }, headers: { 'Idempotency-Key': 'in-flight' } });
      expectReused(sameKeyOtherValue, 'in-flight', '/v1/kv/concurrent-A');
      const theSame = await http(gw.base, 'PUT', '/v1/kv/concurrent-A', { body: { value: 'a' }, headers: { 'Idempotency-Key': 'in-flight' } });
      expect(theSame.status).toBe(200);
    } finally {
      store.apply = apply;
    }
  });
});

describe('the same request twice', () => {
  it('is one effect and the first answer; the body is compared as JSON, the key as decoded', async () => {
    const headers = { 'Idempotency-Key': 'cas-once' };
    const before = leader().proposedRequests;
    const one = await http(gw.base, 'POST', '/v1/kv/swap%20me/cas', { body: '{"expected": null, "value": "1"}', headers });
    expect(one.body).toMatchObject({ succeeded: true, value: '1' });
    // members in another order, other spacing, a member the API does not know, another percent-encoding
    const two = await http(gw.base, 'POST', '/v1/kv/swap me/cas', { body: '{"value":"1","expected":null,"note":"ignored"}', headers });
    expect(two.status).toBe(200);
    expect(two.body).toEqual(one.body); // not a failed second cas
    expect(leader().proposedRequests - before).toBe(2);
    expect((await get('swap me')).body).toMatchObject({ value: '1', revision: one.body.revision });
  });

  it('a DELETE retried is the first outcome, not "missing"', async () => {
    await http(gw.base, 'PUT', '/v1/kv/gone', { body: { value: 'v' } });
    const headers = { 'Idempotency-Key': 'del-once' };
    const one = await http(gw.base, 'DELETE', '/v1/kv/gone', { headers });
    const two = await http(gw.base, 'DELETE', '/v1/kv/gone', { headers });
    expect(one.body).toMatchObject({ deleted: true });
    expect(two.body).toEqual(one.body);
  });

  it('without an Idempotency-Key, every request is new', async () => {
    const one = await http(gw.base, 'PUT', '/v1/kv/twice', { body: { value: 'v' } });
    const two = await http(gw.base, 'PUT', '/v1/kv/twice', { body: { value: 'v' } });
    expect(two.body.revision).toBeGreaterThan(one.body.revision);
  });
});

describe('Idempotency-Key past its session window (fails closed)', () => {
  it('a retry of <client>/<seq> older than the window (1000) → 409 naming the reason; nothing applied again', async () => {
    const put = (seq: number, value: string) => http(gw.base, 'PUT', '/v1/kv/windowed', { body: { value }, headers: { 'Idempotency-Key': `win/${seq}` } });
    const first = await put(1, 'first');
    expect(first.status).toBe(200);
    const second = await put(1001, 'second');
    expect(second.status).toBe(200);
    const retry = await put(1, 'first');
    expect(retry.status).toBe(409);
    expect(retry.body).toEqual({
      type: 'https://synod.dev/problems/idempotency-key-expired',
      title: 'Idempotency-Key past its session window',
      status: 409,
      detail: expect.stringContaining('"win/1" can no longer be deduplicated'),
      instance: '/v1/kv/windowed',
      field: 'Idempotency-Key',
      reason: 'outside-window',
    });
    expect((await get('windowed')).body.value).toBe('second');
    // a seq inside the window is still a retry with its first answer
    expect((await put(1001, 'second')).body).toEqual(second.body);
  });

  it("keyless writes are seqs of the gateway's own session", async () => {
    await http(gw.base, 'PUT', '/v1/kv/keyless', { body: { value: 'v' } });
    const ids = leader()
      .proposals.flatMap((p) => p.requests)
      .filter((r) => (r.cmd as { key?: string }).key === 'keyless')
      .map((r) => r.id);
    expect(ids).toEqual([expect.stringMatching(/^rest:gw-[0-9a-f-]+\/[1-9][0-9]*$/)]);
  });
});

describe('REST keys and BullMQ batches live apart', () => {
  it('Idempotency-Key job:batch-1/1 on a PUT is a new request, not a batch command', async () => {
    const accepted = await http(gw.base, 'POST', '/v1/commands', {
      body: { commands: [{ op: 'put', key: 'from-batch', value: 'b' }] },
      headers: { 'Idempotency-Key': 'batch-1' },
    });
    expect(accepted.body.id).toBe('batch-1');
    await waitUntil('the batch ran', async () => (await http(gw.base, 'GET', '/v1/commands/batch-1')).body.state === 'completed');
    const batchIds = leader()
      .proposals.flatMap((p) => p.requests)
      .filter((r) => (r.cmd as { key?: string }).key === 'from-batch')
      .map((r) => r.id);
    expect(batchIds).toContain('job:batch-1/1');

    const put = await http(gw.base, 'PUT', '/v1/kv/from-rest', { body: { value: 'r' }, headers: { 'Idempotency-Key': 'job:batch-1/1' } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: 'from-rest', value: 'r', revision: expect.any(Number) });
    expect((await get('from-rest')).body.value).toBe('r');
    expect(
      leader()
        .proposals.at(-1)
        ?.requests.map((r) => r.id),
    ).toEqual(['rest:job:batch-1/1']);
  });
});
