import type { FakeReplica } from '../testing/fake-replica';
import { http, startFakeClusterGateway, startLedGateway, type FakeClusterGateway, type HttpAnswer, type RunningGateway } from '../testing/gateway-harness';

/**
 * POST /v1/txn over HTTP: a real gateway, fake replicas running the real KvStateMachine (so the
 * compares, branches and revisions are the state machine's own), over a real Redis.
 */

jest.setTimeout(30_000);

const CLUSTER = 'txnhttp';
const MAX_KEY_BYTES = 16;
const MAX_VALUE_BYTES = 32;
let fx: FakeClusterGateway;
let gw: RunningGateway;
let cluster: FakeClusterGateway['cluster'];

beforeAll(async () => {
  // MAX_TXN_OPS is left at its default (128).
  fx = await startFakeClusterGateway(CLUSTER, { MAX_KEY_BYTES: String(MAX_KEY_BYTES), MAX_VALUE_BYTES: String(MAX_VALUE_BYTES) });
  ({ gw, cluster } = fx);
});

afterAll(() => fx?.stop());

const leader = (): FakeReplica => cluster.replicas.get('n1') as FakeReplica;
/** The store's revision now (every replica of the fake cluster applies to the one store). */
const storeRevision = (): number => cluster.store.sm.appliedRevision;
const txn = (body: unknown, headers: Record<string, string> = {}, base = gw.base) => http(base, 'POST', '/v1/txn', { body, headers });
const get = (key: string) => http(gw.base, 'GET', `/v1/kv/${encodeURIComponent(key)}`);
const put = async (key: string, value: string): Promise<number> => {
  const r = await http(gw.base, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { body: { value } });
  expect(r.status).toBe(200);
  return r.body.revision as number;
};
const item = (key: string, value: string, createRevision: number, modRevision: number, version: number) => ({
  key,
  value,
  revision: modRevision,
  createRevision,
  modRevision,
  version,
});

/** The answer is a problem naming `field`, and nothing reached the log. */
async function expectRefused(send: () => Promise<HttpAnswer>, status: number, type: string | null, field: string | undefined): Promise<HttpAnswer> {
  const proposalsBefore = leader().proposals.length;
  const revisionBefore = storeRevision();
  const res = await send();
  expect({ status: res.status, field: res.body?.field }).toEqual({ status, field });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, instance: '/v1/txn', detail: expect.any(String) });
  if (type !== null) expect(res.body.type).toBe(type);
  expect(leader().proposals.length).toBe(proposalsBefore);
  expect(storeRevision()).toBe(revisionBefore);
  return res;
}

const INVALID = 'https://synod.dev/problems/invalid-field';
const TOO_LARGE = 'https://synod.dev/problems/too-large';

describe('POST /v1/txn', () => {
  it('runs the success branch when every compare holds: every write at the one revision of the transaction', async () => {
    const revA = await put('t1/a', 'x');
    const revC = await put('t1/c', 'gone soon');
    const proposedBefore = leader().proposedRequests;
    const res = await txn({
      compare: [
        { key: 't1/a', target: 'value', op: '=', value: 'x' },
        { key: 't1/b', target: 'version', op: '=', value: 0 },
      ],
      success: [
        { op: 'put', key: 't1/a', value: 'y' },
        { op: 'put', key: 't1/b', value: 'z' },
        { op: 'delete', key: 't1/c' },
      ],
      failure: [{ op: 'put', key: 't1/fail', value: 'no' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const r = revC + 1;
    expect(res.body).toEqual({
      succeeded: true,
      results: [
        { op: 'put', key: 't1/a', revision: r },
        { op: 'put', key: 't1/b', revision: r },
        { op: 'delete', key: 't1/c', deleted: true, revision: r },
      ],
      revision: r,
    });
    expect(leader().proposedRequests - proposedBefore).toBe(1); // one request in the log, not three

    expect((await get('t1/a')).body).toEqual(item('t1/a', 'y', revA, r, 2));
    expect((await get('t1/b')).body).toEqual(item('t1/b', 'z', r, r, 1));
    expect((await get('t1/c')).status).toBe(404);
    expect((await get('t1/fail')).status).toBe(404);
  });

  it('runs the failure branch when a compare fails; its reads see the state before its own writes and after earlier ops', async () => {
    const revA = await put('t2/a', 'now');
    const revB = await put('t2/b', 'b');
    const res = await txn({
      compare: [
        { key: 't2/b', target: 'value', op: '=', value: 'b' }, // holds
        { key: 't2/a', target: 'value', op: '=', value: 'then' }, // does not
      ],
      success: [{ op: 'put', key: 't2/s', value: 's' }],
      failure: [
        { op: 'get', key: 't2/a' },
        { op: 'get', key: 't2/missing' },
        { op: 'range', prefix: 't2/', limit: 5 },
        { op: 'put', key: 't2/f', value: 'f' },
        { op: 'get', key: 't2/f' },
        { op: 'delete', key: 't2/b' },
        { op: 'range', prefix: 't2/' },
        { op: 'delete', key: 't2/never' },
      ],
    });
    expect(res.status).toBe(200);
    const r = revB + 1;
    expect(res.body).toEqual({
      succeeded: false,
      results: [
        { op: 'get', key: 't2/a', item: item('t2/a', 'now', revA, revA, 1) },
        { op: 'get', key: 't2/missing', item: null },
        { op: 'range', prefix: 't2/', items: [item('t2/a', 'now', revA, revA, 1), item('t2/b', 'b', revB, revB, 1)] },
        { op: 'put', key: 't2/f', revision: r },
        { op: 'get', key: 't2/f', item: item('t2/f', 'f', r, r, 1) },
        { op: 'delete', key: 't2/b', deleted: true, revision: r },
        { op: 'range', prefix: 't2/', items: [item('t2/a', 'now', revA, revA, 1), item('t2/f', 'f', r, r, 1)] },
        { op: 'delete', key: 't2/never', deleted: false, revision: r },
      ],
      revision: r,
    });
    expect((await get('t2/s')).status).toBe(404);
    expect((await get('t2/f')).body).toEqual(item('t2/f', 'f', r, r, 1));
    expect((await get('t2/b')).status).toBe(404);
  });

  it('a range is limited, in key order', async () => {
    for (const k of ['t3/c', 't3/a', 't3/b']) await put(k, k);
    const res = await txn({ success: [{ op: 'range', prefix: 't3/', limit: 2 }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0].items.map((i: { key: string }) => i.key)).toEqual(['t3/a', 't3/b']);
  });

  it('an empty transaction succeeds, with no results, at a revision of its own', async () => {
    const before = storeRevision();
    const res = await txn({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ succeeded: true, results: [], revision: before + 1 });
  });

  it('the same key may be written in both branches, and read and written in one', async () => {
    const res = await txn({
      compare: [{ key: 't4/k', target: 'createRevision', op: '=', value: 0 }],
      success: [
        { op: 'get', key: 't4/k' },
        { op: 'put', key: 't4/k', value: 'first' },
        { op: 'get', key: 't4/k' },
      ],
      failure: [{ op: 'put', key: 't4/k', value: 'again' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.succeeded).toBe(true);
    expect(res.body.results[0]).toEqual({ op: 'get', key: 't4/k', item: null });
    expect(res.body.results[2]).toEqual({ op: 'get', key: 't4/k', item: item('t4/k', 'first', res.body.revision, res.body.revision, 1) });
    const again = await txn({
      compare: [{ key: 't4/k', target: 'createRevision', op: '=', value: 0 }],
      success: [{ op: 'put', key: 't4/k', value: 'first' }],
      failure: [{ op: 'put', key: 't4/k', value: 'again' }],
    });
    expect(again.body).toMatchObject({ succeeded: false, results: [{ op: 'put', key: 't4/k', revision: again.body.revision }] });
    expect((await get('t4/k')).body).toMatchObject({ value: 'again', version: 2 });
  });

  describe('compares (a missing key: value null, 0 for version and revisions)', () => {
    let created: number;
    let modified: number;

    beforeAll(async () => {
      created = await put('cmp/k', 'a');
      modified = await put('cmp/k', 'm');
    });

    const cases: Array<[string, () => object[], boolean]> = [
      ['value = current', () => [{ key: 'cmp/k', target: 'value', op: '=', value: 'm' }], true],
      ['value = other', () => [{ key: 'cmp/k', target: 'value', op: '=', value: 'n' }], false],
      ['value != other', () => [{ key: 'cmp/k', target: 'value', op: '!=', value: 'n' }], true],
      ['value != current', () => [{ key: 'cmp/k', target: 'value', op: '!=', value: 'm' }], false],
      ['value < greater', () => [{ key: 'cmp/k', target: 'value', op: '<', value: 'n' }], true],
      ['value < itself', () => [{ key: 'cmp/k', target: 'value', op: '<', value: 'm' }], false],
      ['value > smaller', () => [{ key: 'cmp/k', target: 'value', op: '>', value: 'l' }], true],
      ['value > greater', () => [{ key: 'cmp/k', target: 'value', op: '>', value: 'z' }], false],
      ['value = null (present)', () => [{ key: 'cmp/k', target: 'value', op: '=', value: null }], false],
      ['value > null (present above absent)', () => [{ key: 'cmp/k', target: 'value', op: '>', value: null }], true],
      ['missing: value = null', () => [{ key: 'cmp/none', target: 'value', op: '=', value: null }], true],
      ['missing: value < ""', () => [{ key: 'cmp/none', target: 'value', op: '<', value: '' }], true],
      ['missing: value > "a"', () => [{ key: 'cmp/none', target: 'value', op: '>', value: 'a' }], false],
      ['version = 2', () => [{ key: 'cmp/k', target: 'version', op: '=', value: 2 }], true],
      ['version > 1', () => [{ key: 'cmp/k', target: 'version', op: '>', value: 1 }], true],
      ['version < 2', () => [{ key: 'cmp/k', target: 'version', op: '<', value: 2 }], false],
      ['version != 2', () => [{ key: 'cmp/k', target: 'version', op: '!=', value: 2 }], false],
      ['createRevision = created', () => [{ key: 'cmp/k', target: 'createRevision', op: '=', value: created }], true],
      ['createRevision < modified', () => [{ key: 'cmp/k', target: 'createRevision', op: '<', value: modified }], true],
      ['createRevision = modified', () => [{ key: 'cmp/k', target: 'createRevision', op: '=', value: modified }], false],
      ['modRevision = modified', () => [{ key: 'cmp/k', target: 'modRevision', op: '=', value: modified }], true],
      ['modRevision > created', () => [{ key: 'cmp/k', target: 'modRevision', op: '>', value: created }], true],
      ['modRevision < modified', () => [{ key: 'cmp/k', target: 'modRevision', op: '<', value: modified }], false],
      ['missing: version = 0', () => [{ key: 'cmp/none', target: 'version', op: '=', value: 0 }], true],
      ['missing: createRevision = 0', () => [{ key: 'cmp/none', target: 'createRevision', op: '=', value: 0 }], true],
      ['missing: modRevision > 0', () => [{ key: 'cmp/none', target: 'modRevision', op: '>', value: 0 }], false],
      [
        'all hold',
        () => [
          { key: 'cmp/k', target: 'value', op: '=', value: 'm' },
          { key: 'cmp/k', target: 'version', op: '=', value: 2 },
        ],
        true,
      ],
      [
        'one of two fails',
        () => [
          { key: 'cmp/k', target: 'value', op: '=', value: 'm' },
          { key: 'cmp/k', target: 'version', op: '=', value: 3 },
        ],
        false,
      ],
    ];

    it.each(cases)('%s', async (_name, compare, holds) => {
      const res = await txn({ compare: compare(), success: [{ op: 'get', key: 'cmp/k' }], failure: [] });
      expect(res.status).toBe(200);
      expect(res.body.succeeded).toBe(holds);
      expect(res.body.results).toHaveLength(holds ? 1 : 0);
    });
  });

  describe('400 naming the field, nothing applied', () => {
    const cases: Array<[string, unknown, string]> = [
      ['an unknown compare target', { compare: [{ key: 'a', target: 'size', op: '=', value: 0 }] }, 'compare[0].target'],
      ['an unknown compare op', { compare: [{ key: 'a', target: 'value', op: '==', value: 'x' }] }, 'compare[0].op'],
      ['a string for a version', { compare: [{ key: 'a', target: 'version', op: '=', value: '1' }] }, 'compare[0].value'],
      ['null for a modRevision', { compare: [{ key: 'a', target: 'modRevision', op: '=', value: null }] }, 'compare[0].value'],
      ['a fraction for a createRevision', { compare: [{ key: 'a', target: 'createRevision', op: '>', value: 1.5 }] }, 'compare[0].value'],
      ['a negative version', { compare: [{ key: 'a', target: 'version', op: '>', value: -1 }] }, 'compare[0].value'],
      ['no compare value', { compare: [{ key: 'a', target: 'value', op: '=' }] }, 'compare[0].value'],
      [
        'an order on a number value (stored strings would sort 9 above 10)',
        { compare: [{ key: 'a', target: 'value', op: '<', value: 10 }] },
        'compare[0].value',
      ],
      ['an empty compare key', { compare: [{ key: '', target: 'value', op: '=', value: null }] }, 'compare[0].key'],
      ['no compare key', { compare: [{ target: 'value', op: '=', value: null }] }, 'compare[0].key'],
      [
        'the second compare',
        {
          compare: [
            { key: 'a', target: 'value', op: '=', value: null },
            { key: 'a', target: 'nope', op: '=', value: null },
          ],
        },
        'compare[1].target',
      ],
      ['an unknown op', { success: [{ op: 'incr', key: 'a' }] }, 'success[0].op'],
      ['an op without op', { failure: [{ op: 'get', key: 'a' }, { key: 'a' }] }, 'failure[1].op'],
      ['a put without a value', { success: [{ op: 'put', key: 'a' }] }, 'success[0].value'],
      ['a delete without a key', { failure: [{ op: 'delete' }] }, 'failure[0].key'],
      [
        'a key put twice in one branch',
        {
          success: [
            { op: 'put', key: 'a', value: '1' },
            { op: 'put', key: 'a', value: '2' },
          ],
        },
        'success[1].key',
      ],
      [
        'a key put then deleted in one branch',
        {
          success: [
            { op: 'put', key: 'a', value: '1' },
            { op: 'get', key: 'a' },
            { op: 'delete', key: 'a' },
          ],
        },
        'success[2].key',
      ],
      [
        'a key deleted twice in the failure branch',
        {
          failure: [
            { op: 'delete', key: 'b' },
            { op: 'delete', key: 'b' },
          ],
        },
        'failure[1].key',
      ],
      ['a range limit of 0', { success: [{ op: 'range', prefix: '', limit: 0 }] }, 'success[0].limit'],
      ['a range limit over 1000', { success: [{ op: 'range', prefix: '', limit: 1001 }] }, 'success[0].limit'],
      ['a range prefix that is no string', { success: [{ op: 'range', prefix: 5 }] }, 'success[0].prefix'],
      ['a branch that is no array', { success: { op: 'get', key: 'a' } }, 'success'],
      ['compare that is no array', { compare: 'a' }, 'compare'],
      ['an op that is no object', { success: [3] }, 'success[0]'],
      ['an array body', [], 'body'],
      ['a null body', null, 'body'],
    ];

    it.each(cases.map(([name, body, field]) => [name, field, body] as const))('%s → %s', async (_name, field, body) => {
      const res = await expectRefused(() => txn(body), 400, INVALID, field);
      expect(res.body.title).toBe('A request field is invalid');
      expect(res.body.detail.startsWith(field)).toBe(true);
    });

    it('a body that is not JSON → 400 malformed-body', async () => {
      const proposalsBefore = leader().proposals.length;
      const res = await txn('{"success": [');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/malformed-body', status: 400 });
      expect(leader().proposals.length).toBe(proposalsBefore);
    });
  });

  describe('413 over a limit, nothing applied', () => {
    const gets = (n: number, key = 'a') => Array.from({ length: n }, () => ({ op: 'get', key }));
    const compares = (n: number) => Array.from({ length: n }, () => ({ key: 'a', target: 'version', op: '>', value: 0 }));

    it('more than MAX_TXN_OPS (default 128) compares and ops together → 413 field body; 128 pass', async () => {
      const res = await expectRefused(() => txn({ compare: compares(43), success: gets(43), failure: gets(43) }), 413, null, 'body');
      expect(res.body.limit).toBe(128);
      expect(res.body.detail).toContain('MAX_TXN_OPS');
      expect(res.body.detail).toContain('129');
      const ok = await txn({ compare: compares(42), success: gets(43), failure: gets(43) });
      expect(ok.status).toBe(200);
      expect(ok.body.results).toHaveLength(43);
    });

    it('MAX_TXN_OPS is configuration', async () => {
      const small = await startLedGateway(fx.redis.url, CLUSTER, { MAX_TXN_OPS: '3' });
      try {
        const res = await expectRefused(() => txn({ compare: compares(1), success: gets(2), failure: gets(1) }, {}, small.base), 413, null, 'body');
        expect(res.body.limit).toBe(3);
        expect((await txn({ compare: compares(1), success: gets(1), failure: gets(1) }, {}, small.base)).status).toBe(200);
      } finally {
        await small.close();
      }
    });

    const key17 = 'k'.repeat(MAX_KEY_BYTES + 1);
    const value33 = 'v'.repeat(MAX_VALUE_BYTES + 1);
    const cases: Array<[string, unknown, string, number]> = [
      ['a success key', { success: [{ op: 'put', key: key17, value: 'v' }] }, 'success[0].key', MAX_KEY_BYTES],
      [
        'a failure key (get)',
        {
          failure: [
            { op: 'get', key: 'a' },
            { op: 'get', key: key17 },
          ],
        },
        'failure[1].key',
        MAX_KEY_BYTES,
      ],
      ['a delete key', { success: [{ op: 'delete', key: key17 }] }, 'success[0].key', MAX_KEY_BYTES],
      ['a compare key', { compare: [{ key: key17, target: 'value', op: '=', value: null }] }, 'compare[0].key', MAX_KEY_BYTES],
      ['a range prefix', { success: [{ op: 'range', prefix: key17 }] }, 'success[0].prefix', MAX_KEY_BYTES],
      ['a key counted in UTF-8 bytes', { success: [{ op: 'get', key: 'é'.repeat(9) }] }, 'success[0].key', MAX_KEY_BYTES],
      [
        'a put value',
        {
          success: [
            { op: 'put', key: 'a', value: 'ok' },
            { op: 'put', key: 'b', value: value33 },
          ],
        },
        'success[1].value',
        MAX_VALUE_BYTES,
      ],
      ['a failure value', { failure: [{ op: 'put', key: 'a', value: value33 }] }, 'failure[0].value', MAX_VALUE_BYTES],
      ['a compare value', { compare: [{ key: 'a', target: 'value', op: '=', value: value33 }] }, 'compare[0].value', MAX_VALUE_BYTES],
      ['a value counted in UTF-8 bytes', { success: [{ op: 'put', key: 'a', value: 'é'.repeat(17) }] }, 'success[0].value', MAX_VALUE_BYTES],
    ];

    it.each(cases.map(([name, body, field, limit]) => [name, field, body, limit] as const))('%s → %s', async (_name, field, body, limit) => {
      const res = await expectRefused(() => txn(body), 413, TOO_LARGE, field);
      expect(res.body).toMatchObject({ title: 'Over a size limit', limit });
      expect(res.body.detail).toContain(field);
    });

    it('keys and values exactly at their limits pass', async () => {
      const key = 'k'.repeat(MAX_KEY_BYTES);
      const value = 'é'.repeat(MAX_VALUE_BYTES / 2);
      const res = await txn({
        compare: [{ key, target: 'value', op: '!=', value }],
        success: [
          { op: 'put', key, value },
          { op: 'range', prefix: key },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.results[1].items).toEqual([item(key, value, res.body.revision, res.body.revision, 1)]);
    });
  });

  describe('415 for a body that is not application/json', () => {
    it.each(['text/plain', 'application/x-www-form-urlencoded'])('%s', async (contentType) => {
      const res = await expectRefused(
        () => txn(JSON.stringify({ success: [{ op: 'put', key: 'ct', value: 'v' }] }), { 'content-type': contentType }),
        415,
        null,
        undefined,
      );
      expect(res.body).toMatchObject({ type: 'https://synod.dev/problems/unsupported-media-type', contentType });
      expect((await get('ct')).status).toBe(404);
    });

    it('application/json with a charset is JSON', async () => {
      const res = await txn(JSON.stringify({ success: [{ op: 'get', key: 'ct' }] }), { 'content-type': 'application/json; charset=utf-8' });
      expect(res.status).toBe(200);
    });
  });

  describe('Idempotency-Key', () => {
    it('the same key with the same transaction: the first answer, one effect', async () => {
      const headers = { 'Idempotency-Key': 'txn-once' };
      const body = {
        compare: [{ key: 'idem/n', target: 'version', op: '=', value: 0 }],
        success: [{ op: 'put', key: 'idem/n', value: '1' }],
        failure: [{ op: 'put', key: 'idem/ran-twice', value: 'yes' }],
      };
      const first = await txn(body, headers);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ succeeded: true, results: [{ op: 'put', key: 'idem/n', revision: first.body.revision }], revision: first.body.revision });
      const proposedBefore = leader().proposedRequests;
      // The same JSON with its members in another order and other spacing.
      const retryText =
        '{ "failure": [{"value":"yes","key":"idem/ran-twice","op":"put"}], "success":[{"value":"1","op":"put","key":"idem/n"}],' +
        '"compare":[{"value":0,"op":"=","target":"version","key":"idem/n"}] }';
      const retry = await txn(retryText, headers);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body); // run again, the compare would fail
      expect(leader().proposedRequests - proposedBefore).toBe(1); // it reached the log, and took no effect there
      expect((await get('idem/n')).body).toEqual(item('idem/n', '1', first.body.revision, first.body.revision, 1));
      expect((await get('idem/ran-twice')).status).toBe(404);
      // Without the key, the same transaction is a new one.
      const fresh = await txn(body);
      expect(fresh.body).toMatchObject({ succeeded: false, revision: expect.any(Number) });
      expect(fresh.body.revision).toBeGreaterThan(first.body.revision);
    });

    it('the same key with another transaction → 422, nothing applied; the first still answers as before', async () => {
      const headers = { 'Idempotency-Key': 'txn-reused' };
      const first = await txn({ success: [{ op: 'put', key: 'idem/a', value: '1' }] }, headers);
      expect(first.status).toBe(200);
      const other = await txn(
        {
          success: [
            { op: 'put', key: 'idem/a', value: '2' },
            { op: 'put', key: 'idem/b', value: '2' },
          ],
        },
        headers,
      );
      expect(other.status).toBe(422);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
      expect(other.body).toEqual({
        type: 'https://synod.dev/problems/idempotency-key-reused',
        title: 'Idempotency-Key reused for a different request',
        status: 422,
        detail: expect.stringContaining('Idempotency-Key "txn-reused" was already used for a different request'),
        instance: '/v1/txn',
        field: 'Idempotency-Key',
      });
      expect((await get('idem/a')).body.value).toBe('1');
      expect((await get('idem/b')).status).toBe(404);
      const again = await txn({ success: [{ op: 'put', key: 'idem/a', value: '1' }] }, headers);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    });

    it('a key first used for a PUT → 422 for a transaction, even one writing the same key and value', async () => {
      const headers = { 'Idempotency-Key': 'put-then-txn' };
      expect((await http(gw.base, 'PUT', '/v1/kv/idem%2Fp', { body: { value: 'v' }, headers })).status).toBe(200);
      const res = await txn({ success: [{ op: 'put', key: 'idem/p', value: 'v' }] }, headers);
      expect(res.status).toBe(422);
      expect(res.body.field).toBe('Idempotency-Key');
      expect((await get('idem/p')).body.version).toBe(1);
    });
  });
});
