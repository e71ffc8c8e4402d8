import type { FakeReplica } from '../testing/fake-replica';
import { http, startFakeClusterGateway, type FakeClusterGateway, type HttpAnswer, type RunningGateway } from '../testing/gateway-harness';

/**
 * /v1/topics over HTTP: a real gateway, fake replicas running the real KvStateMachine (so offsets,
 * leases of deliveries, acks and redeliveries are the state machine's own), over a real Redis.
 */

jest.setTimeout(30_000);

const CLUSTER = 'topicshttp';
const MAX_KEY_BYTES = 16;
const MAX_VALUE_BYTES = 64;
let fx: FakeClusterGateway;
let gw: RunningGateway;
let cluster: FakeClusterGateway['cluster'];

beforeAll(async () => {
  fx = await startFakeClusterGateway(CLUSTER, { MAX_KEY_BYTES: String(MAX_KEY_BYTES), MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) });
  ({ gw, cluster } = fx);
});

afterAll(() => fx?.stop());

const leader = (): FakeReplica => cluster.replicas.get('n1') as FakeReplica;
const storeRevision = (): number => cluster.store.sm.appliedRevision;
const path = (topic: string, rest = ''): string => `/v1/topics/${encodeURIComponent(topic)}${rest}`;
const publish = (topic: string, body: unknown, headers: Record<string, string> = {}) => http(gw.base, 'POST', path(topic, '/messages'), { body, headers });
const fetchMsgs = (topic: string, query: string) => http(gw.base, 'GET', `${path(topic, '/messages')}?${query}`);
const ack = (topic: string, body: unknown) => http(gw.base, 'POST', path(topic, '/ack'), { body });
const nack = (topic: string, body: unknown) => http(gw.base, 'POST', path(topic, '/nack'), { body });
const info = (topic: string) => http(gw.base, 'GET', path(topic));

/** The answer is a problem naming `field`, and nothing reached the log. */
async function expectRefused(send: () => Promise<HttpAnswer>, status: number, field: string | undefined): Promise<HttpAnswer> {
  const proposalsBefore = leader().proposals.length;
  const revisionBefore = storeRevision();
  const res = await send();
  expect({ status: res.status, field: res.body?.field }).toEqual({ status, field });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(leader().proposals.length).toBe(proposalsBefore);
  expect(storeRevision()).toBe(revisionBefore);
  return res;
}

describe('/v1/topics', () => {
  it('publishes with offsets from 0, fetches (leasing), acks; GET /v1/topics/{t} shows offsets and the group', async () => {
    const p0 = await publish('orders', { value: 'first', key: 'cust-1', headers: { trace: 'abc' } });
    expect(p0.status).toBe(200);
    expect(p0.body).toEqual({ topic: 'orders', id: 'orders/0', offset: 0, revision: expect.any(Number) });
    const p1 = await publish('orders', { value: '{"n":2}' });
    expect(p1.body).toMatchObject({ id: 'orders/1', offset: 1 });

    const f = await fetchMsgs('orders', 'group=billing&max=10');
    expect(f.status).toBe(200);
    expect(f.body).toEqual({
      messages: [
        { id: 'orders/0', offset: 0, key: 'cust-1', value: 'first', headers: { trace: 'abc' }, attempt: 1 },
        { id: 'orders/1', offset: 1, key: null, value: '{"n":2}', headers: {}, attempt: 1 },
      ],
    });
    // Leased: a second fetch of the group gets nothing.
    expect((await fetchMsgs('orders', 'group=billing&max=10')).body).toEqual({ messages: [] });
    const mid = await info('orders');
    expect(mid.status).toBe(200);
    expect(mid.body).toEqual({ topic: 'orders', startOffset: 0, endOffset: 2, groups: [{ group: 'billing', committed: 0, lag: 2, inFlight: 2 }] });

    const a = await ack('orders', { group: 'billing', ids: ['orders/0', 'orders/1', 'orders/99'] });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ acked: ['orders/0', 'orders/1'], unknown: ['orders/99'] });
    expect((await info('orders')).body.groups).toEqual([{ group: 'billing', committed: 2, lag: 0, inFlight: 0 }]);
  });

  it('nack hands a delivery back: it comes again with attempt 2', async () => {
    await publish('jobs', { value: 'j0' });
    const first = await fetchMsgs('jobs', 'group=w');
    expect(first.body.messages).toMatchObject([{ id: 'jobs/0', attempt: 1 }]);
    const n = await nack('jobs', { group: 'w', ids: ['jobs/0'] });
    expect(n.status).toBe(200);
    expect(n.body).toEqual({ nacked: ['jobs/0'], unknown: [] });
    const again = await fetchMsgs('jobs', 'group=w');
    expect(again.body.messages).toMatchObject([{ id: 'jobs/0', value: 'j0', attempt: 2 }]);
  });

  it('an unacknowledged delivery comes again after visibilityMs', async () => {
    await publish('vis', { value: 'v' });
    expect((await fetchMsgs('vis', 'group=g&visibilityMs=200')).body.messages).toMatchObject([{ attempt: 1 }]);
    expect((await fetchMsgs('vis', 'group=g')).body.messages).toEqual([]);
    const t0 = Date.now();
    const later = await fetchMsgs('vis', 'group=g&waitMs=3000');
    expect(later.body.messages).toMatchObject([{ id: 'vis/0', attempt: 2 }]);
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('long poll: waits for a message published meanwhile, and answers as soon as it comes', async () => {
    const t0 = Date.now();
    const pending = fetchMsgs('lp', 'group=g&waitMs=5000');
    await new Promise((r) => setTimeout(r, 300));
    await publish('lp', { value: 'late' });
    const res = await pending;
    expect(res.body.messages).toMatchObject([{ id: 'lp/0', value: 'late', attempt: 1 }]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('long poll: nothing within waitMs is an empty answer after about waitMs', async () => {
    const t0 = Date.now();
    const res = await fetchMsgs('quiet', 'group=g&waitMs=400');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ messages: [] });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('long poll: a client gone mid-poll stops it (nothing is leased to nobody)', async () => {
    const ctl = new AbortController();
    const gone = fetch(`${gw.base}/v1/topics/left/messages?group=g&waitMs=5000`, { signal: ctl.signal }).catch(() => null);
    await new Promise((r) => setTimeout(r, 150));
    ctl.abort();
    await gone;
    await new Promise((r) => setTimeout(r, 150));
    await publish('left', { value: 'kept' });
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetchMsgs('left', 'group=g')).body.messages).toMatchObject([{ id: 'left/0', attempt: 1 }]);
  });

  it('a retried publish (same Idempotency-Key, same body) publishes once and gets the first answer; another body is 422', async () => {
    const h = { 'idempotency-key': 'pub-once-1' };
    const r1 = await publish('idem', { value: 'once' }, h);
    const r2 = await publish('idem', { value: 'once' }, h);
    expect(r1.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    expect((await info('idem')).body.endOffset).toBe(1);
    const other = await publish('idem', { value: 'other' }, h);
    expect(other.status).toBe(422);
    expect(other.body.field).toBe('Idempotency-Key');
  });

  it('GET /v1/topics/{t} of a topic never published to is a 404 problem', async () => {
    const res = await info('never');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, topic: 'never' });
  });

  it('refuses bad input with a problem naming the field, before anything reaches the log', async () => {
    await expectRefused(() => publish('bad name', { value: 'x' }), 400, 'topic');
    await expectRefused(() => publish('x'.repeat(201), { value: 'x' }), 400, 'topic');
    await expectRefused(() => publish('t', {}), 400, 'value');
    await expectRefused(() => publish('t', { value: 5 }), 400, 'value');
    await expectRefused(() => publish('t', { value: 'v', key: 7 }), 400, 'key');
    await expectRefused(() => publish('t', { value: 'v', headers: { a: 1 } }), 400, 'headers.a');
    await expectRefused(() => publish('t', { value: 'v'.repeat(MAX_VALUE_BYTES + 1) }), 413, 'value');
    await expectRefused(() => publish('t', { value: 'v', key: 'k'.repeat(MAX_KEY_BYTES + 1) }), 413, 'key');
    await expectRefused(() => fetchMsgs('t', 'max=2'), 400, 'group');
    await expectRefused(() => fetchMsgs('t', 'group=bad%20group'), 400, 'group');
    await expectRefused(() => fetchMsgs('t', 'group=g&max=0'), 400, 'max');
    await expectRefused(() => fetchMsgs('t', 'group=g&max=1001'), 400, 'max');
    await expectRefused(() => fetchMsgs('t', 'group=g&waitMs=30001'), 400, 'waitMs');
    await expectRefused(() => fetchMsgs('t', 'group=g&visibilityMs=abc'), 400, 'visibilityMs');
    await expectRefused(() => ack('t', { ids: ['t/0'] }), 400, 'group');
    await expectRefused(() => ack('t', { group: 'g', ids: [] }), 400, 'ids');
    await expectRefused(() => ack('t', { group: 'g', ids: [3] }), 400, 'ids[0]');
    await expectRefused(() => nack('t', { group: 'g', ids: ['t/0'], delayMs: -1 }), 400, 'delayMs');
    await expectRefused(() => http(gw.base, 'GET', '/v1/topics/bad%20name'), 400, 'topic');
  });

  it('tail: Server-Sent Events from fromOffset, id = offset, then new messages as they come', async () => {
    await publish('tl', { value: 'a' });
    await publish('tl', { value: 'b', key: 'k' });
    const ctl = new AbortController();
    const res = await fetch(`${gw.base}/v1/topics/tl/tail?fromOffset=1`, { signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (needle: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no ${needle} in ${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await until('id: 1\n');
    await publish('tl', { value: 'c' });
    await until('id: 2\n');
    ctl.abort();
    const events = text
      .split('\n\n')
      .filter((f) => f.includes('event: message'))
      .map((f) =>
        JSON.parse(
          f
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ),
      );
    expect(events).toEqual([
      { id: 'tl/1', offset: 1, key: 'k', value: 'b', headers: {} },
      { id: 'tl/2', offset: 2, key: null, value: 'c', headers: {} },
    ]);
    expect(text).not.toContain('id: 0\n');
  });
});
