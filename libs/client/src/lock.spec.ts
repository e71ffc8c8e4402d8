import { SynodClient } from './client';
import { SynodLeaseLostError } from './errors';
import { json, openSse, problem, ScriptedServer, sendSse, type Hit } from './testing/scripted-server';

/**
 * The lock's and the election's queue against a scripted gateway: the requests of each step (the
 * lease, the create-if-absent transaction, the listing of every page, the watch of the key before
 * ours, the listing again), and how each answer is taken.
 */
let s: ScriptedServer;
beforeAll(async () => (s = await ScriptedServer.start()));
afterAll(() => s.close());
afterEach(() => s.reset());

const item = (key: string, createRevision: number, value: unknown = 'x', lease = key.split('/').pop()) => ({
  key,
  value,
  revision: createRevision,
  createRevision,
  modRevision: createRevision,
  version: 1,
  lease,
});

type Pages = Array<{ items: unknown[]; revision: number; next?: string | null }>;

interface Script {
  /** The answers to GET /v1/kv?prefix=…, one per listing: each a list of pages (or a function giving it when the listing starts). */
  listings: Array<Pages | (() => Pages)>;
  /** GET /v1/watch, by `key` or `prefix` query value: what the stream does. */
  watches: Record<string, (hit: Hit) => void>;
  txn?: (hit: Hit) => void;
}

/** A gateway: lease L2 (TTL 10 s), the transaction creates res/L2 at revision 12, then the script. */
function gateway(script: Script): { listed: number } {
  const state = { listed: 0, page: 0 };
  s.otherwise = (hit) => {
    const route = `${hit.method} ${hit.path}`;
    if (route === 'POST /v1/leases') return json(hit, 201, { id: 'L2', ttlSeconds: 10 });
    if (route === 'POST /v1/txn')
      return script.txn ? script.txn(hit) : json(hit, 200, { succeeded: true, results: [{ op: 'put', key: 'res/L2', revision: 12 }], revision: 12 });
    if (route === 'GET /v1/kv') {
      const listing = script.listings[state.listed];
      const pages = typeof listing === 'function' ? listing() : listing;
      const page = pages[state.page];
      if (++state.page === pages.length) {
        state.listed++;
        state.page = 0;
      }
      return json(hit, 200, { items: page.items, next: page.next ?? null, revision: page.revision });
    }
    if (route === 'GET /v1/watch') {
      const w = script.watches[hit.query.get('key') ?? hit.query.get('prefix') ?? ''];
      if (w) return w(hit);
    }
    if (route === 'DELETE /v1/leases/L2') return json(hit, 200, { id: 'L2', deleted: ['res/L2'], revision: 40 });
    if (route === 'DELETE /v1/kv/res/L2') return json(hit, 200, { key: 'res/L2', deleted: true, revision: 41 });
    json(hit, 404, problem(404));
  };
  return state;
}

const held = (hit: Hit) => openSse(hit); // a stream that brings nothing
const routes = () => s.hits.map((h) => `${h.method} ${h.path}${h.query.size ? `?${h.query}` : ''}`);

describe('SDK lock', () => {
  it('creates its key only if absent, on its lease; waits for the key before it to be deleted (not changed), lists again, and holds with its createRevision as token', async () => {
    let l1Deleted = false;
    gateway({
      listings: [
        [
          { items: [item('res/L1', 10)], next: 'res/L1', revision: 12 },
          { items: [item('res/L2', 12), item('res/L3', 13)], revision: 13 },
        ],
        // The queue as it is when listed (an early look would still find L1).
        () =>
          l1Deleted
            ? [{ items: [item('res/L2', 12), item('res/L3', 13)], revision: 15 }]
            : [{ items: [item('res/L1', 10, 'y'), item('res/L2', 12), item('res/L3', 13)], revision: 13 }],
      ],
      watches: {
        'res/L1': (hit) => {
          openSse(hit);
          sendSse(hit, 'put', 13, { key: 'res/L1', value: 'y', revision: 13 });
          setTimeout(() => {
            l1Deleted = true;
            sendSse(hit, 'delete', 14, { key: 'res/L1', value: null, revision: 14 });
          }, 300);
        },
        'res/L2': held,
      },
    });
    const client = new SynodClient({ endpoints: [s.url], clientId: 'me' });
    const t0 = Date.now();
    const lock = await client.lock('res');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280); // not at the put: at the delete
    expect(lock).toMatchObject({ name: 'res', key: 'res/L2', fencingToken: 12 });
    expect(lock.lease.id).toBe('L2');
    expect(routes().slice(0, 6)).toEqual([
      'POST /v1/leases',
      'POST /v1/txn',
      'GET /v1/kv?prefix=res%2F&limit=500',
      'GET /v1/kv?prefix=res%2F&after=res%2FL1&limit=500',
      'GET /v1/watch?key=res%2FL1&fromRevision=13', // from after the listing's first page
      'GET /v1/kv?prefix=res%2F&limit=500',
    ]);
    expect(JSON.parse(s.hits[0].body)).toEqual({ ttlSeconds: 10 });
    expect(JSON.parse(s.hits[1].body)).toEqual({
      compare: [{ key: 'res/L2', target: 'createRevision', op: '=', value: 0 }],
      success: [{ op: 'put', key: 'res/L2', value: 'me', lease: 'L2' }],
      failure: [{ op: 'get', key: 'res/L2' }],
    });
    // Then it watches its own key, from after the listing that made it the holder.
    await new Promise((r) => setTimeout(r, 100));
    expect(routes()[6]).toBe('GET /v1/watch?key=res%2FL2&fromRevision=16');

    await lock.unlock();
    expect(routes().slice(7)).toEqual(['POST /v1/txn', 'DELETE /v1/leases/L2']);
    expect(JSON.parse(s.hits[7].body)).toEqual({
      compare: [{ key: 'res/L2', target: 'createRevision', op: '=', value: 12 }],
      success: [{ op: 'delete', key: 'res/L2' }],
      failure: [],
    });
    expect(await lock.lost).toMatchObject({ reason: 'revoked' });
  });

  it('its key deleted while it holds: lost resolves with "key-deleted" at once', async () => {
    gateway({
      listings: [[{ items: [item('res/L2', 12)], revision: 12 }]],
      watches: {
        'res/L2': (hit) => {
          openSse(hit);
          setTimeout(() => sendSse(hit, 'delete', 20, { key: 'res/L2', value: null, revision: 20 }), 200);
        },
      },
    });
    const lock = await new SynodClient({ endpoints: [s.url] }).lock('res');
    const t0 = Date.now();
    const lost = await lock.lost;
    expect(lost).toBeInstanceOf(SynodLeaseLostError);
    expect(lost).toMatchObject({ reason: 'key-deleted', leaseId: 'L2' });
    expect(Date.now() - t0).toBeLessThan(2_000); // the watch, not the lease's TTL (10 s)
    expect(lock.lease.lostError?.reason).toBe('closed'); // its keepalives stopped
    await lock.unlock();
  });

  it('its key gone from the queue while it waited (lease expired): lock() throws and gives back key and lease', async () => {
    gateway({
      listings: [[{ items: [item('res/L1', 10), item('res/L2', 12)], revision: 12 }], [{ items: [item('res/L3', 30)], revision: 31 }]],
      watches: { 'res/L1': (hit) => (openSse(hit), sendSse(hit, 'delete', 14, { key: 'res/L1', value: null, revision: 14 })) },
    });
    const err = await new SynodClient({ endpoints: [s.url] }).lock('res').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynodLeaseLostError);
    expect(err).toMatchObject({ reason: 'key-deleted' });
    await new Promise((r) => setTimeout(r, 200));
    expect(routes().slice(-2)).toEqual(['DELETE /v1/kv/res%2FL2', 'DELETE /v1/leases/L2']);
  });

  it('an abort while it waits: lock() throws the reason at once, and gives back key and lease', async () => {
    gateway({ listings: [[{ items: [item('res/L1', 10), item('res/L2', 12)], revision: 12 }]], watches: { 'res/L1': held } });
    const ac = new AbortController();
    const pending = new SynodClient({ endpoints: [s.url] }).lock('res', { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(routes()).toContain('GET /v1/watch?key=res%2FL1&fromRevision=13');
    ac.abort(new Error('enough'));
    expect(await pending).toMatchObject({ message: 'enough' });
    await new Promise((r) => setTimeout(r, 200));
    expect(routes().slice(-2)).toEqual(['DELETE /v1/kv/res%2FL2', 'DELETE /v1/leases/L2']);
  });

  it('a key of its lease there already (a lease queued twice for one name) is refused, not shared', async () => {
    gateway({
      listings: [],
      watches: {},
      txn: (hit) => json(hit, 200, { succeeded: false, results: [{ op: 'get', key: 'res/L2', item: item('res/L2', 9) }], revision: 12 }),
    });
    const client = new SynodClient({ endpoints: [s.url] });
    const lease = await client.lease(10);
    await expect(client.lock('res', { lease })).rejects.toThrow(/exists already/);
    await new Promise((r) => setTimeout(r, 200));
    expect(lease.lostError).toBeNull(); // a lease of the caller's is not revoked
    expect(routes().filter((r) => r.startsWith('DELETE'))).toEqual([]); // nor the key, which is not this call's
    lease.close();
  });
});

describe('SDK election', () => {
  it('leader(): the lowest createRevision over every page; null when nobody campaigns', async () => {
    gateway({
      listings: [
        [
          { items: [item('e/a', 20, 'A')], next: 'e/a', revision: 30 },
          { items: [item('e/b', 7, { host: 'b' })], revision: 30 },
        ],
        [{ items: [], revision: 31 }],
      ],
      watches: {},
    });
    const client = new SynodClient({ endpoints: [s.url] });
    expect(await client.leader('e')).toEqual({ key: 'e/b', value: { host: 'b' }, revision: 7 });
    expect(await client.leader('e')).toBeNull();
  });

  it('observe(): the leader now, then each change in revision order; the events of one revision count together', async () => {
    gateway({
      listings: [[{ items: [item('e/A', 5, 'a')], revision: 9 }]],
      watches: {
        'e/': (hit) => {
          openSse(hit);
          const ev = (type: string, key: string, value: unknown, revision: number) => sendSse(hit, type, revision, { key, value, revision });
          ev('put', 'e/B', 'b', 11); // a campaigner behind A: no change
          ev('delete', 'e/A', null, 12); // B leads
          // One transaction: B goes and C comes; "no leader" in between is no state anyone saw.
          ev('delete', 'e/B', null, 13);
          setTimeout(() => {
            ev('put', 'e/C', 'c', 13);
            ev('put', 'e/C', 'c2', 14); // proclaimed
            ev('delete', 'e/C', null, 15);
          }, 5);
        },
      },
    });
    const seen: unknown[] = [];
    for await (const l of new SynodClient({ endpoints: [s.url] }).observe('e')) if (seen.push(l) === 5) break;
    expect(seen).toEqual([
      { key: 'e/A', value: 'a', revision: 5 },
      { key: 'e/B', value: 'b', revision: 11 },
      { key: 'e/C', value: 'c', revision: 13 },
      { key: 'e/C', value: 'c2', revision: 13 },
      null,
    ]);
    expect(routes()).toContain('GET /v1/watch?prefix=e%2F&fromRevision=10');
  });

  it('proclaim(): a put on its lease only while its key is the one elected; else SynodLeaseLostError', async () => {
    let proclaims = 0;
    gateway({
      listings: [[{ items: [item('res/L2', 12)], revision: 12 }]],
      watches: { 'res/L2': held },
      txn: (hit) => {
        const body = JSON.parse(hit.body);
        if (body.success[0].op === 'put' && body.compare[0].value === 0) return json(hit, 200, { succeeded: true, results: [], revision: 12 });
        proclaims++;
        json(hit, 200, { succeeded: proclaims === 1, results: [], revision: 20 + proclaims });
      },
    });
    const client = new SynodClient({ endpoints: [s.url] });
    const l = await client.campaign('res', 'v1');
    expect(l).toMatchObject({ key: 'res/L2', revision: 12, name: 'res' });
    await l.proclaim('v2');
    expect(JSON.parse(s.hits.filter((h) => h.path === '/v1/txn')[1].body)).toEqual({
      compare: [{ key: 'res/L2', target: 'createRevision', op: '=', value: 12 }],
      success: [{ op: 'put', key: 'res/L2', value: 'v2', lease: 'L2' }],
      failure: [],
    });
    await expect(l.proclaim('v3')).rejects.toMatchObject({ name: 'SynodLeaseLostError', reason: 'key-deleted' });
    l.lease.close();
  });
});
