import { SynodClient } from './client';
import { SynodError } from './errors';
import { json, problem, ScriptedServer, type Hit } from './testing/scripted-server';

/** client.topics against scripted gateways: what each call sends, and how it takes the answers. */
let a: ScriptedServer;
let b: ScriptedServer;

beforeAll(async () => {
  [a, b] = await Promise.all([ScriptedServer.start(), ScriptedServer.start()]);
});
afterAll(() => Promise.all([a.close(), b.close()]));
afterEach(() => {
  a.reset();
  b.reset();
  a.otherwise = b.otherwise = (hit) => json(hit, 404, problem(404));
});

const delivery = (offset: number, attempt = 1) => ({ id: `orders/${offset}`, offset, key: 'k', value: `m${offset}`, headers: {}, attempt });
const bodyOf = (hit: Hit): unknown => JSON.parse(hit.body);

describe('SDK topics', () => {
  it('publish: POST /v1/topics/{topic}/messages with value, key and headers, under the next Idempotency-Key', async () => {
    a.steps = [
      (hit) => json(hit, 200, { topic: 'orders', id: 'orders/0', offset: 0, revision: 5 }),
      (hit) => json(hit, 200, { topic: 'orders', id: 'orders/1', offset: 1, revision: 6 }),
    ];
    const client = new SynodClient({ endpoints: [a.url], clientId: 'c' });
    expect(await client.topics.publish('orders', '{"n":1}')).toEqual({ topic: 'orders', id: 'orders/0', offset: 0, revision: 5 });
    const second = await client.topics.publish('orders', 'x', { key: 'cust-1', headers: { h: 'v' }, idempotencyKey: 'order-77' });
    expect([second.id, second.offset]).toEqual(['orders/1', 1]);
    expect(a.hits.map((h) => [h.method, h.path, bodyOf(h), h.headers['idempotency-key'], h.headers['content-type']])).toEqual([
      ['POST', '/v1/topics/orders/messages', { value: '{"n":1}' }, 'c/1', 'application/json'],
      ['POST', '/v1/topics/orders/messages', { value: 'x', key: 'cust-1', headers: { h: 'v' } }, 'order-77', 'application/json'],
    ]);
  });

  it('publish: a 504 and a dropped connection are retried with the same Idempotency-Key, on the next gateway', async () => {
    a.steps = [(hit) => json(hit, 504, problem(504, { requestId: 'c/1' })), (hit) => hit.res.destroy()];
    b.steps = [(hit) => json(hit, 200, { topic: 't', id: 't/3', offset: 3, revision: 9 })];
    const client = new SynodClient({ endpoints: [a.url, b.url], clientId: 'c' });
    expect((await client.topics.publish('t', 'v')).offset).toBe(3);
    expect([...a.hits, ...b.hits].map((h) => h.headers['idempotency-key'])).toEqual(['c/1', 'c/1', 'c/1']);
  });

  it('fetch: GET with group, max, waitMs, visibilityMs and the consumer (default: the clientId); returns the deliveries', async () => {
    a.steps = [(hit) => json(hit, 200, { messages: [delivery(0), delivery(1, 2)] }), (hit) => json(hit, 200, { messages: [] })];
    const client = new SynodClient({ endpoints: [a.url], clientId: 'c' });
    expect(await client.topics.fetch('a.b-c_d', { group: 'g', max: 10, waitMs: 0, visibilityMs: 5000 })).toEqual([delivery(0), delivery(1, 2)]);
    expect(await client.topics.fetch('a.b-c_d', { group: 'g', consumer: 'worker-2' })).toEqual([]);
    expect(a.hits.map((h) => [h.method, h.path, Object.fromEntries(h.query), h.headers['idempotency-key']])).toEqual([
      ['GET', '/v1/topics/a.b-c_d/messages', { group: 'g', max: '10', waitMs: '0', visibilityMs: '5000', consumer: 'c' }, undefined],
      ['GET', '/v1/topics/a.b-c_d/messages', { group: 'g', consumer: 'worker-2' }, undefined],
    ]);
  });

  it('fetch: a long poll is not cut by the per-attempt timeout (it is sized to waitMs)', async () => {
    a.steps = [(hit) => setTimeout(() => json(hit, 200, { messages: [delivery(4)] }), 700)];
    const client = new SynodClient({ endpoints: [a.url], attemptTimeoutMs: 200, deadlineMs: 300 });
    const t0 = Date.now();
    expect(await client.topics.fetch('t', { group: 'g', waitMs: 1000 })).toEqual([delivery(4)]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    expect(a.hits).toHaveLength(1);
  });

  it('fetch: without waitMs the client attempt timeout holds, and the next gateway is tried', async () => {
    a.steps = [() => undefined]; // never answers
    b.steps = [(hit) => json(hit, 200, { messages: [delivery(0)] })];
    const client = new SynodClient({ endpoints: [a.url, b.url], attemptTimeoutMs: 200, deadlineMs: 2000 });
    expect(await client.topics.fetch('t', { group: 'g' })).toEqual([delivery(0)]);
    expect([a.hits.length, b.hits.length]).toEqual([1, 1]);
  });

  it('fetch: survives gateway failover (a gateway lost mid-poll, a 503) and polls again on the next one', async () => {
    a.steps = [(hit) => setTimeout(() => hit.res.destroy(), 100)];
    b.steps = [(hit) => json(hit, 503, problem(503), { 'retry-after': '0' }), (hit) => json(hit, 200, { messages: [delivery(7)] })];
    const client = new SynodClient({ endpoints: [a.url, b.url], clientId: 'c' });
    expect(await client.topics.fetch('t', { group: 'g', waitMs: 5000 })).toEqual([delivery(7)]);
    expect([...a.hits, ...b.hits].map((h) => h.query.get('waitMs'))).toEqual(['5000', '5000', '5000']);
  });

  it('fetch: an abort stops the long poll', async () => {
    a.steps = [() => undefined];
    const client = new SynodClient({ endpoints: [a.url] });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    await expect(client.topics.fetch('t', { group: 'g', waitMs: 10_000, signal: ctl.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ack and nack: POST {group, ids[, delayMs]} under an Idempotency-Key; no ids, no request', async () => {
    a.steps = [
      (hit) => json(hit, 200, { acked: ['t/0'], unknown: ['t/9'] }),
      (hit) => json(hit, 200, { nacked: ['t/1'], unknown: [] }),
      (hit) => json(hit, 200, { nacked: ['t/2'], unknown: [] }),
    ];
    const client = new SynodClient({ endpoints: [a.url], clientId: 'c' });
    expect(await client.topics.ack('t', 'g', ['t/0', 't/9'])).toEqual({ acked: ['t/0'], unknown: ['t/9'] });
    expect(await client.topics.nack('t', 'g', ['t/1'], { delayMs: 250 })).toEqual({ nacked: ['t/1'], unknown: [] });
    expect(await client.topics.nack('t', 'g', ['t/2'])).toEqual({ nacked: ['t/2'], unknown: [] });
    expect(await client.topics.ack('t', 'g', [])).toEqual({ acked: [], unknown: [] });
    expect(await client.topics.nack('t', 'g', [])).toEqual({ nacked: [], unknown: [] });
    expect(a.hits.map((h) => [h.path, bodyOf(h), h.headers['idempotency-key']])).toEqual([
      ['/v1/topics/t/ack', { group: 'g', ids: ['t/0', 't/9'] }, 'c/1'],
      ['/v1/topics/t/nack', { group: 'g', ids: ['t/1'], delayMs: 250 }, 'c/2'],
      ['/v1/topics/t/nack', { group: 'g', ids: ['t/2'] }, 'c/3'],
    ]);
  });

  it('info: the topic, or null on 404; a 400 is a SynodError naming the field', async () => {
    const info = { topic: 't', startOffset: 0, endOffset: 3, groups: [{ group: 'g', committed: 1, lag: 2, inFlight: 1 }] };
    a.steps = [(hit) => json(hit, 200, info), (hit) => json(hit, 404, problem(404)), (hit) => json(hit, 400, problem(400, { field: 'topic' }))];
    const client = new SynodClient({ endpoints: [a.url] });
    expect(await client.topics.info('t')).toEqual(info);
    expect(await client.topics.info('none')).toBeNull();
    const err = await client.topics.info('bad name').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodError);
    expect(err).toMatchObject({ status: 400, problem: { field: 'topic' } });
    expect(a.hits.map((h) => h.path)).toEqual(['/v1/topics/t', '/v1/topics/none', '/v1/topics/bad%20name']);
  });
});
