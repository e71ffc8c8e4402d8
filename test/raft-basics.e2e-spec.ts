import Redis from 'ioredis';
import { Bus, channelFor } from '@app/bus';
import { TestCluster, waitFor } from './support/cluster';
import { clientAuth } from './support/wire-client';

/** A real 3-replica Raft cluster (launcher, Redis, processes, HTTP): the happy path and bad input. */
describe('Raft cluster: reads, writes and input handling', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await TestCluster.start(['--protocol', 'raft']);
    await c.waitForLeader();
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('writes and reads through the gateway; every replica converges to one applied index and digest', async () => {
    const put = await c.put('alpha', 'one');
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: 'alpha', value: 'one', revision: expect.any(Number) });

    const got = await c.get('alpha');
    expect(got.status).toBe(200);
    const rev = put.body.revision;
    expect(got.body).toEqual({ key: 'alpha', value: 'one', revision: rev, createRevision: rev, modRevision: rev, version: 1 });
    expect((await c.get('alpha', 'stale')).status).toBe(200);

    const cas = await c.http('POST', '/v1/kv/alpha/cas', { expected: 'one', value: 'two' });
    expect(cas.status).toBe(200);
    expect(cas.body).toEqual({ succeeded: true, value: 'two', revision: expect.any(Number) });
    const casFail = await c.http('POST', '/v1/kv/alpha/cas', { expected: 'one', value: 'three' });
    expect(casFail.body).toMatchObject({ succeeded: false, value: 'two' });
    const casCreate = await c.http('POST', '/v1/kv/fresh/cas', { expected: null, value: 'new' });
    expect(casCreate.body).toMatchObject({ succeeded: true, value: 'new' });

    for (let i = 0; i < 30; i++) expect((await c.put(`list/${i}`, `v${i}`)).status).toBe(200);
    const list = await c.http('GET', '/v1/kv?prefix=list/&limit=5');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(5);
    expect(list.body.items[0]).toMatchObject({ key: 'list/0', value: 'v0' });
    // Pages: every key once, in key order, the last page's next null.
    expect(list.body.next).toBe('list/12');
    const seen: string[] = list.body.items.map((i: { key: string }) => i.key);
    for (let after = list.body.next; after !== null;) {
      const page = await c.http('GET', `/v1/kv?prefix=list/&limit=7&after=${encodeURIComponent(after)}`);
      seen.push(...page.body.items.map((i: { key: string }) => i.key));
      after = seen.length > 40 ? null : page.body.next;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `list/${i}`).sort());

    const del = await c.http('DELETE', '/v1/kv/alpha');
    expect(del.body).toEqual({ key: 'alpha', deleted: true, revision: expect.any(Number) });
    expect((await c.get('alpha')).status).toBe(404);

    const s = await waitFor(
      async () => {
        const st = await c.clusterState();
        const applied = new Set(st.nodes.map((n: any) => n.appliedIndex));
        const digests = new Set(st.nodes.map((n: any) => n.digest));
        return applied.size === 1 && digests.size === 1 && !digests.has(undefined) ? st : null;
      },
      20_000,
      'every replica at one applied index with one digest',
    );
    expect(s.protocol).toBe('raft');
    expect(s.nodes).toHaveLength(3);
    expect(s.nodes[0].appliedIndex).toBeGreaterThanOrEqual(36);
  }, 60_000);

  it('the same Idempotency-Key twice gives one effect and the first answer', async () => {
    const h = { 'idempotency-key': 'e2e-once-1' };
    const first = await c.http('POST', '/v1/kv/counter/cas', { expected: null, value: '1' }, h);
    expect(first.body.succeeded).toBe(true);
    const again = await c.http('POST', '/v1/kv/counter/cas', { expected: null, value: '1' }, h);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body); // not a failed second cas
    const put1 = await c.put('idem', 'a', { 'idempotency-key': 'e2e-once-2' });
    await c.put('idem', 'b');
    const put2 = await c.put('idem', 'a', { 'idempotency-key': 'e2e-once-2' });
    expect(put2.body).toEqual(put1.body);
    expect((await c.get('idem')).body.value).toBe('b'); // the retry did not write again
  }, 30_000);

  it.each([
    ['malformed JSON', 'PUT', '/v1/kv/x', '{"value": ', 400],
    ['missing value', 'PUT', '/v1/kv/x', {}, 400],
    ['value null (it stands for absent)', 'PUT', '/v1/kv/x', { value: null }, 400],
    ['cas without expected', 'POST', '/v1/kv/x/cas', { value: 'v' }, 400],
    ['cas expected with the stored-JSON mark', 'POST', '/v1/kv/x/cas', { expected: '\u0000x', value: 'v' }, 400],
    ['a body that is an array', 'PUT', '/v1/kv/x', [1, 2], 400],
    ['huge value', 'PUT', '/v1/kv/x', { value: 'v'.repeat(70_000) }, 413],
    ['huge key', 'PUT', `/v1/kv/${'k'.repeat(2000)}`, { value: 'v' }, 413],
    ['body over the limit', 'PUT', '/v1/kv/x', { value: 'v'.repeat(2_000_000) }, 413],
    ['bad consistency', 'GET', '/v1/kv/x?consistency=sometimes', undefined, 400],
    ['bad list limit', 'GET', '/v1/kv?prefix=a&limit=-3', undefined, 400],
    ['unknown node', 'POST', '/v1/admin/nodes/n9/kill', undefined, 404],
    ['unknown admin action', 'POST', '/v1/admin/nodes/n1/explode', undefined, 404],
    ['byzantine in raft mode', 'POST', '/v1/admin/nodes/n1/byzantine', { behavior: 'silent' }, 400],
  ])('bad input: %s', async (_name, method, path, body, status) => {
    const r = await c.http(method, path, body);
    expect(r.status).toBe(status);
    expect(typeof r.body).toBe('object');
    expect(r.body).toMatchObject({ type: expect.any(String), status, detail: expect.any(String) });
  });

  it('names the offending field in a 400', async () => {
    const r = await c.http('PUT', '/v1/kv/x', { value: null });
    expect(r.body.field).toBe('value');
    const big = await c.http('PUT', '/v1/kv/x', { value: 'v'.repeat(70_000) });
    expect(big.body.field).toBe('value');
  });

  it('values are any JSON value: written, read and compared (key order does not matter)', async () => {
    const doc = { b: [1, 'two', { three: true }], a: 4.5 };
    expect((await c.http('PUT', '/v1/kv/json', { value: doc })).body).toMatchObject({ key: 'json', value: doc });
    expect((await c.get('json')).body.value).toEqual(doc);
    const swapped = await c.http('POST', '/v1/kv/json/cas', { expected: { a: 4.5, b: [1, 'two', { three: true }] }, value: 7 });
    expect(swapped.body).toMatchObject({ succeeded: true, value: 7 });
    const txn = await c.http('POST', '/v1/txn', { compare: [{ key: 'json', target: 'value', op: '=', value: 7 }], success: [{ op: 'get', key: 'json' }] });
    expect(txn.body).toMatchObject({ succeeded: true, results: [{ op: 'get', item: { value: 7 } }] });
    // A string that looks like JSON stays a string.
    expect((await c.http('PUT', '/v1/kv/json', { value: '7' })).status).toBe(200);
    expect((await c.get('json')).body.value).toBe('7');
  });

  it('keeps serving after the bad input', async () => {
    expect((await c.put('after-bad-input', 'fine')).status).toBe(200);
    expect((await c.get('after-bad-input')).body.value).toBe('fine');
  });

  it('runs a batch of commands asynchronously through BullMQ, once per Idempotency-Key', async () => {
    const body = {
      commands: [
        { op: 'put', key: 'job-a', value: '1' },
        { op: 'cas', key: 'job-a', expected: '1', value: '2' },
        { op: 'delete', key: 'job-b' },
      ],
    };
    const accepted = await c.http('POST', '/v1/commands', body, { 'idempotency-key': 'job-e2e-1' });
    expect(accepted.status).toBe(202);
    const again = await c.http('POST', '/v1/commands', body, { 'idempotency-key': 'job-e2e-1' });
    expect(again.body.id).toBe(accepted.body.id);
    const done = await waitFor(
      async () => {
        const r = await c.http('GET', `/v1/commands/${encodeURIComponent(accepted.body.id)}`);
        return r.body.state === 'completed' ? r.body : null;
      },
      20_000,
      'the job to complete',
    );
    expect(done.results).toHaveLength(3);
    expect(done.results[1]).toMatchObject({ succeeded: true, value: '2' });
    expect((await c.get('job-a')).body.value).toBe('2');
    expect((await c.http('GET', '/v1/commands/no-such-job')).status).toBe(404);
  }, 30_000);

  it('drops garbage on the bus (random bytes, forged Raft frames) and keeps serving', async () => {
    const redises = new Map(c.info.nodes.map((n) => [n.id, new Redis(c.info.homes[n.id])]));
    // A client keyholder claiming to be a member: its frames fail authentication (n2's key is not its own).
    const bus = new Bus({ homes: c.info.homes, cluster: c.info.cluster, self: 'n2', auth: clientAuth(c.info) });
    await bus.start();
    try {
      for (const n of c.info.nodes) {
        const channel = channelFor(c.info.cluster, n.id);
        const redis = redises.get(n.id)!; // each replica's inbox is on its own Redis
        await redis.publish(channel, Buffer.from([0xff, 0x00, 0x13, 0x37]));
        await redis.publish(channel, 'not a frame at all');
        bus.send(n.id, { t: 'raft', ms: [{ type: 'AppendEntries', from: 'n2', to: n.id, term: 'high' }] });
        bus.send(n.id, { t: 'raft', ms: 'nope' });
        bus.send(n.id, { t: 'propose', corr: 5, requests: [{ id: 1 }] });
        bus.send(n.id, { t: 'read', corr: 'x', consistency: 'linearizable', query: null });
        // Bodies sharing a frame (ManyBody): malformed, nested, oversized, and garbage inside one.
        bus.send(n.id, { t: 'many', bodies: 'nope' });
        bus.send(n.id, { t: 'many', bodies: [{ t: 'many', bodies: [{ t: 'read', corr: 'y', consistency: 'stale', query: { op: 'get', key: 'k' } }] }] });
        bus.send(n.id, {
          t: 'many',
          bodies: Array.from({ length: 10_000 }, () => ({ t: 'read', corr: 'z', consistency: 'stale', query: { op: 'get', key: 'k' } })),
        });
        bus.send(n.id, { t: 'many', bodies: [null, 7, { t: 'raft', ms: 'nope' }, { t: 'propose', corr: 5 }] });
      }
      expect((await c.put('after-garbage', 'ok')).status).toBe(200);
      const s = await c.clusterState();
      expect(s.nodes.every((n: any) => n.alive)).toBe(true);
      expect(s.leader).not.toBeNull();
    } finally {
      await bus.stop();
      for (const r of redises.values()) r.disconnect();
    }
  }, 30_000);

  it('serves the docs, the dashboard, health and metrics', async () => {
    expect((await c.http('GET', '/docs')).status).toBe(200);
    expect((await c.http('GET', '/')).status).toBe(200);
    expect((await c.http('GET', '/health')).status).toBe(200);
    const m = await c.http('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(String(m.body)).toMatch(/synod_/);
  });
});

describe('Raft cluster: admin token', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await TestCluster.start(['--protocol', 'raft'], { ADMIN_TOKEN: 'sesame' });
    await c.waitForLeader();
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('refuses admin calls without the bearer token and accepts them with it', async () => {
    expect((await c.admin('n1', 'isolate')).status).toBe(401);
    expect((await c.http('POST', '/v1/admin/nodes/n1/isolate', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await c.http('POST', '/v1/admin/nodes/n1/heal', undefined, { authorization: 'Bearer sesame' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: 'n1', alive: true });
  }, 30_000);
});
