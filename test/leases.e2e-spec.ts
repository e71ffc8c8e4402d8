import { clusterForSuite, type TestCluster, waitFor } from './support/cluster';

/**
 * Leases on real clusters: a key put with a lease lives at least the TTL after the last keepalive
 * a client was told about — across a leader (primary) kill — and then goes; a lease's keys go in
 * one revision. The canary runs the same check on replicas whose lease clock counts half the TTL
 * (LEASE_CLOCK=half-ttl-test-only) and shows that the check reports the early expiry.
 */

const TTL_SECONDS = 4;

/** A write through the whole chaos: 503s (no leader yet) are retried with the same Idempotency-Key. */
async function write(c: TestCluster, method: string, path: string, body: unknown, key: string): Promise<any> {
  const r = await waitFor(
    async () => {
      const res = await c.http(method, path, body, { 'idempotency-key': key });
      return res.status === 503 || res.status === 504 ? null : res;
    },
    30_000,
    `${method} ${path}`,
  );
  return r;
}

async function grantWithKeys(c: TestCluster, tag: string, keys: string[]): Promise<{ id: string; revision: number }> {
  const g = await write(c, 'POST', '/v1/leases', { ttlSeconds: TTL_SECONDS }, `${tag}-grant`);
  expect(g.status).toBe(201);
  let revision = 0;
  for (const k of keys) {
    const p = await write(c, 'PUT', `/v1/kv/${encodeURIComponent(k)}`, { value: tag, lease: g.body.id }, `${tag}-put-${k}`);
    expect(p.status).toBe(200);
    revision = p.body.revision;
  }
  return { id: g.body.id, revision };
}

/** The changes a watch delivers until `done` says it has enough (a tiny SSE reader). */
async function watchUntil(c: TestCluster, query: string, done: (events: any[]) => boolean, timeoutMs: number): Promise<any[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: any[] = [];
  try {
    const res = await fetch(`${c.url}/v1/watch?${query}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if ((type === 'put' || type === 'delete') && data) events.push({ type, ...JSON.parse(data) });
      }
      if (done(events)) break;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

/**
 * Keeps the lease alive for `keepMs` (killing and reviving the leader meanwhile when `kill`), then
 * stops and watches the key until it is gone. Returns when it was first seen gone and when the last
 * acknowledged keepalive was sent.
 */
async function keepThenLetGo(c: TestCluster, id: string, key: string, keepMs: number, kill: boolean): Promise<{ lastAckedSend: number; goneAt: number }> {
  let lastAckedSend = Date.now();
  let goneAt = 0;
  let keeping = true;
  const stopAt = Date.now() + keepMs;
  const keeper = (async () => {
    while (keeping && Date.now() < stopAt) {
      const sent = Date.now();
      const r = await c.http('POST', `/v1/leases/${id}/keepalive`).catch(() => null);
      if (r?.status === 200) lastAckedSend = Math.max(lastAckedSend, sent);
      if (r?.status === 404) break; // gone: what the poller checks
      await new Promise((res) => setTimeout(res, 600));
    }
  })();
  const poller = (async () => {
    while (goneAt === 0) {
      const at = Date.now();
      const r = await c.http('GET', `/v1/kv/${encodeURIComponent(key)}`).catch(() => null);
      if (r?.status === 404) goneAt = at;
      else await new Promise((res) => setTimeout(res, 50));
      if (Date.now() > stopAt + 60_000) throw new Error('the lease never expired');
    }
  })();
  if (kill) {
    await new Promise((res) => setTimeout(res, 1000));
    const leader = await c.waitForLeader();
    expect((await c.admin(leader, 'kill', '?mode=hard')).status).toBe(200);
    await new Promise((res) => setTimeout(res, 1000));
    expect((await c.admin(leader, 'revive')).status).toBe(200);
  }
  await keeper;
  keeping = false;
  await poller;
  return { lastAckedSend, goneAt };
}

describe.each([
  ['raft', 3],
  ['pbft', 4],
])('leases on %s', (protocol, nodes) => {
  const cluster = clusterForSuite(['--protocol', protocol as string, '--nodes', String(nodes)]);

  it('a key lives at least its TTL after the last acknowledged keepalive, across a leader kill, then goes with its lease', async () => {
    const c = cluster();
    const key = `lease-${protocol}/held`;
    const { id } = await grantWithKeys(c, `held-${protocol}`, [key]);
    const { lastAckedSend, goneAt } = await keepThenLetGo(c, id, key, 6000, true);
    // Never sooner than the TTL after the last keepalive the client was told about (from its send).
    expect(goneAt - lastAckedSend).toBeGreaterThanOrEqual(TTL_SECONDS * 1000);
    // And not forever: the TTL, a revote or two, an election.
    expect(goneAt - lastAckedSend).toBeLessThan(TTL_SECONDS * 1000 + 15_000);
    expect((await c.http('GET', `/v1/leases/${id}`)).status).toBe(404);
    expect((await c.http('POST', `/v1/leases/${id}/keepalive`)).status).toBe(404);
  }, 120_000);

  it('an expired lease deletes its keys in one revision; a revoked one too, and says which', async () => {
    const c = cluster();
    const prefix = `lease-${protocol}/group/`;
    const expiring = await grantWithKeys(c, `exp-${protocol}`, [`${prefix}e1`, `${prefix}e2`, `${prefix}e3`]);
    const deletes = await watchUntil(
      c,
      `prefix=${encodeURIComponent(prefix)}&fromRevision=${expiring.revision + 1}`,
      (ev) => ev.filter((e) => e.type === 'delete').length >= 3,
      40_000,
    );
    const expired = deletes.filter((e) => e.type === 'delete');
    expect(expired.map((e) => e.key).sort()).toEqual([`${prefix}e1`, `${prefix}e2`, `${prefix}e3`]);
    expect(new Set(expired.map((e) => e.revision)).size).toBe(1);

    const revoked = await grantWithKeys(c, `rev-${protocol}`, [`${prefix}r1`, `${prefix}r2`]);
    const r = await write(c, 'DELETE', `/v1/leases/${revoked.id}`, undefined, `rev-${protocol}-revoke`);
    expect(r.status).toBe(200);
    expect(r.body.deleted).toEqual([`${prefix}r1`, `${prefix}r2`]);
    for (const k of r.body.deleted) {
      expect((await c.http('GET', `/v1/kv/${encodeURIComponent(k)}?revision=${r.body.revision - 1}`)).status).toBe(200);
      expect((await c.http('GET', `/v1/kv/${encodeURIComponent(k)}?revision=${r.body.revision}`)).status).toBe(404);
    }
    expect((await c.http('PUT', `/v1/kv/${encodeURIComponent(`${prefix}late`)}`, { value: 'x', lease: revoked.id })).status).toBe(404);
  }, 120_000);
});

describe('canary: leases on replicas whose clock counts half the TTL (LEASE_CLOCK=half-ttl-test-only)', () => {
  const cluster = clusterForSuite(['--protocol', 'raft'], { LEASE_CLOCK: 'half-ttl-test-only', NODE_ENV: 'test' });

  it('the same check sees the key go before its TTL after the last acknowledged keepalive', async () => {
    const c = cluster();
    const key = 'canary/held';
    const { id } = await grantWithKeys(c, 'canary', [key]);
    const { lastAckedSend, goneAt } = await keepThenLetGo(c, id, key, 3000, false);
    expect(goneAt - lastAckedSend).toBeLessThan(TTL_SECONDS * 1000);
  }, 120_000);
});
