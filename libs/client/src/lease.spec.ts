import { SynodClient } from './client';
import { SynodLeaseLostError } from './errors';
import { json, problem, ScriptedServer, type Hit } from './testing/scripted-server';

/**
 * The lease handle's keepalive loop against scripted gateways (TTL 1 s: a keepalive every ~333 ms):
 * what it sends, when it calls the lease lost, and what it does then.
 */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keepalives = (s: ScriptedServer): Hit[] => s.hits.filter((h) => h.method === 'POST' && h.path === '/v1/leases/7/keepalive');

/** A gateway that grants lease 7 (TTL 1 s) and answers its keepalives with `keepalive`. */
function gateway(s: ScriptedServer, keepalive: (hit: Hit) => void): void {
  s.otherwise = (hit) => {
    if (hit.method === 'POST' && hit.path === '/v1/leases') return json(hit, 201, { id: '7', ttlSeconds: 1 });
    if (hit.method === 'POST' && hit.path === '/v1/leases/7/keepalive') return keepalive(hit);
    if (hit.method === 'DELETE' && hit.path === '/v1/leases/7') return json(hit, 200, { id: '7', deleted: [], revision: 30 });
    json(hit, 404, problem(404));
  };
}
const alive = (hit: Hit) => json(hit, 200, { id: '7', ttlSeconds: 1 });

describe('SDK lease handle', () => {
  it('grants, then keeps the lease alive every TTL/3, each keepalive a write of its own; close() stops the loop without revoking', async () => {
    const at: number[] = [];
    gateway(a, (hit) => {
      at.push(Date.now());
      alive(hit);
    });
    const client = new SynodClient({ endpoints: [a.url], clientId: 'c' });
    const lease = await client.lease(1);
    expect([lease.id, lease.ttlSeconds]).toEqual(['7', 1]);
    expect([a.hits[0].method, a.hits[0].path, JSON.parse(a.hits[0].body), a.hits[0].headers['idempotency-key']]).toEqual([
      'POST',
      '/v1/leases',
      { ttlSeconds: 1 },
      'c/1',
    ]);
    await sleep(1_200);
    const sent = keepalives(a);
    // ~333, ~667, ~1000 ms after the grant: three, a third of the TTL apart
    expect(sent).toHaveLength(3);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(280);
    expect(Math.max(...gaps)).toBeLessThan(480);
    expect(sent.map((h) => h.headers['idempotency-key'])).toEqual(sent.map((_, i) => `c/${i + 2}`));
    expect(lease.lostError).toBeNull();
    lease.close();
    const lost = await lease.lost;
    expect(lost).toBeInstanceOf(SynodLeaseLostError);
    expect(lost).toMatchObject({ leaseId: '7', reason: 'closed' });
    const before = a.hits.length;
    await sleep(500);
    expect(a.hits.length).toBe(before); // no keepalive, no revoke
  });

  it('a keepalive answered 404: lost resolves with reason "gone" and the loop stops', async () => {
    gateway(a, (hit) => json(hit, 404, problem(404, { lease: '7' })));
    const lease = await new SynodClient({ endpoints: [a.url] }).lease(1);
    const lost = await lease.lost;
    expect(lost).toMatchObject({ reason: 'gone', leaseId: '7' });
    expect(lease.lostError).toBe(lost);
    await sleep(500);
    expect(keepalives(a)).toHaveLength(1);
    expect(a.hits.some((h) => h.method === 'DELETE')).toBe(false);
  });

  it('no keepalive acknowledged for a TTL: lost ("unconfirmed") a TTL after the grant was sent, not before; then a revoke', async () => {
    gateway(a, (hit) => json(hit, 503, problem(503)));
    const client = new SynodClient({ endpoints: [a.url] });
    const t0 = Date.now();
    const lease = await client.lease(1);
    const lost = await lease.lost;
    const at = Date.now();
    expect(lost.reason).toBe('unconfirmed');
    expect(at - t0).toBeGreaterThanOrEqual(999);
    expect(at - t0).toBeLessThan(1_800);
    expect(lease.validUntil).toBeLessThanOrEqual(at);
    expect(keepalives(a).length).toBeGreaterThanOrEqual(2); // tried again and again, in vain
    await sleep(200);
    expect(a.hits.filter((h) => h.method === 'DELETE').map((h) => h.path)).toEqual(['/v1/leases/7']);
  });

  it('validUntil counts from the send of the acknowledged keepalive, not from its (slow) answer', async () => {
    let answeredAt = 0;
    gateway(a, (hit) =>
      setTimeout(() => {
        answeredAt = Date.now();
        alive(hit);
      }, 250),
    );
    const lease = await new SynodClient({ endpoints: [a.url] }).lease(1);
    await sleep(700);
    lease.close();
    expect(answeredAt).toBeGreaterThan(0);
    expect(lease.validUntil).toBeLessThanOrEqual(answeredAt + 1_000 - 240);
  });

  it('a keepalive whose gateway dies mid-request goes to the next one with the same Idempotency-Key', async () => {
    gateway(a, (hit) => hit.res.socket?.destroy());
    gateway(b, alive);
    const lease = await new SynodClient({ endpoints: [a.url, b.url], clientId: 'f' }).lease(1);
    await sleep(800);
    lease.close();
    expect(keepalives(a).length).toBe(1);
    expect(keepalives(b).length).toBeGreaterThanOrEqual(1);
    expect(keepalives(b)[0].headers['idempotency-key']).toBe(keepalives(a)[0].headers['idempotency-key']);
    expect((await lease.lost).reason).toBe('closed'); // never lost meanwhile
  });

  it('revoke() stops the loop and revokes; lost resolves with "revoked"', async () => {
    gateway(a, alive);
    const lease = await new SynodClient({ endpoints: [a.url] }).lease(1);
    await lease.revoke();
    expect((await lease.lost).reason).toBe('revoked');
    expect(a.hits.map((h) => `${h.method} ${h.path}`)).toEqual(['POST /v1/leases', 'DELETE /v1/leases/7']);
    await sleep(500);
    expect(keepalives(a)).toHaveLength(0);
  });

  it('leases.keep(id) keeps a lease granted elsewhere (null when it is gone); the raw calls take 404 as null', async () => {
    gateway(a, alive);
    const client = new SynodClient({ endpoints: [a.url] });
    const kept = await client.leases.keep('7');
    expect(kept).not.toBeNull();
    kept!.close();
    expect(await client.leases.keep('8')).toBeNull();
    expect(await client.leases.keepalive('8')).toBeNull();
    expect(await client.leases.revoke('8')).toBeNull();
    expect(await client.leases.get('8')).toBeNull();
    expect(a.hits.map((h) => `${h.method} ${h.path}`)).toEqual([
      'POST /v1/leases/7/keepalive',
      'POST /v1/leases/8/keepalive',
      'POST /v1/leases/8/keepalive',
      'DELETE /v1/leases/8',
      'GET /v1/leases/8',
    ]);
  });

  it('a kept lease (granted elsewhere) found unconfirmed is not revoked: whoever granted it may still keep it', async () => {
    let n = 0;
    gateway(a, (hit) => (n++ === 0 ? alive(hit) : json(hit, 503, problem(503))));
    const kept = await new SynodClient({ endpoints: [a.url] }).leases.keep('7');
    expect((await kept!.lost).reason).toBe('unconfirmed');
    await sleep(200);
    expect(a.hits.some((h) => h.method === 'DELETE')).toBe(false);
  });

  it('put(key, value, { lease }) sends the lease; values may be any JSON value', async () => {
    a.otherwise = (hit) => json(hit, 200, { key: 'k', value: JSON.parse(hit.body).value, revision: 3 });
    const client = new SynodClient({ endpoints: [a.url] });
    const r = await client.put('k', { n: [1, true] }, { lease: '7' });
    expect(r.value).toEqual({ n: [1, true] });
    await client.put('k', 'plain');
    expect(a.hits.map((h) => JSON.parse(h.body))).toEqual([{ value: { n: [1, true] }, lease: '7' }, { value: 'plain' }]);
  });
});
