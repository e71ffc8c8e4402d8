import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { FakeReplica, FakeStore, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

jest.setTimeout(30_000);

let redis: TestRedis;
let gw: RunningGateway;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
const CLUSTER = 'kvhttp';

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  gw = await startGateway(
    { BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', MAX_KEY_BYTES: '64', MAX_VALUE_BYTES: '1000', BODY_LIMIT: '4kb' },
    { requestTimeoutMs: 2000, attemptTimeoutMs: 400 },
  );
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});

afterAll(async () => {
  await gw?.close();
  await cluster?.stop();
  await redis?.stop();
});

const leader = (): FakeReplica => cluster.replicas.get('n1') as FakeReplica;

describe('KV over REST', () => {
  it('put, get, cas, delete, list have the documented shapes', async () => {
    const put = await http(gw.base, 'PUT', '/v1/kv/color', { body: { value: 'blue' } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: 'color', value: 'blue', revision: expect.any(Number) });

    const get = await http(gw.base, 'GET', '/v1/kv/color');
    expect(get.status).toBe(200);
    const rev = put.body.revision;
    expect(get.body).toEqual({ key: 'color', value: 'blue', revision: rev, createRevision: rev, modRevision: rev, version: 1 });
    expect(leader().reads.at(-1)).toMatchObject({ t: 'read', consistency: 'linearizable', query: { op: 'get', key: 'color' } });

    const stale = await http(gw.base, 'GET', '/v1/kv/color?consistency=stale');
    expect(stale.body.value).toBe('blue');

    const casFail = await http(gw.base, 'POST', '/v1/kv/color/cas', { body: { expected: 'red', value: 'green' } });
    expect(casFail.status).toBe(200);
    expect(casFail.body).toEqual({ succeeded: false, value: 'blue', revision: expect.any(Number) });
    const casOk = await http(gw.base, 'POST', '/v1/kv/color/cas', { body: { expected: 'blue', value: 'green' } });
    expect(casOk.body).toEqual({ succeeded: true, value: 'green', revision: expect.any(Number) });
    const casAbsent = await http(gw.base, 'POST', '/v1/kv/shape/cas', { body: { expected: null, value: 'round' } });
    expect(casAbsent.body).toMatchObject({ succeeded: true, value: 'round' });

    const list = await http(gw.base, 'GET', '/v1/kv?prefix=&limit=10');
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { key: string }) => i.key)).toEqual(['color', 'shape']);
    // cas made its second version; a failed cas changed nothing.
    expect(list.body.items[0]).toEqual({
      key: 'color',
      value: 'green',
      revision: casOk.body.revision,
      createRevision: rev,
      modRevision: casOk.body.revision,
      version: 2,
    });
    expect(list.body).toMatchObject({ next: null, revision: expect.any(Number) });
    expect(list.body.revision).toBeGreaterThanOrEqual(casAbsent.body.revision);
    const limited = await http(gw.base, 'GET', '/v1/kv?prefix=sh');
    expect(limited.body).toEqual({
      items: [{ key: 'shape', value: 'round', revision: expect.any(Number), createRevision: expect.any(Number), modRevision: expect.any(Number), version: 1 }],
      next: null,
      revision: expect.any(Number),
    });

    const del = await http(gw.base, 'DELETE', '/v1/kv/color');
    expect(del.body).toEqual({ key: 'color', deleted: true, revision: expect.any(Number) });
    const delAgain = await http(gw.base, 'DELETE', '/v1/kv/color');
    expect(delAgain.body).toMatchObject({ key: 'color', deleted: false });

    const gone = await http(gw.base, 'GET', '/v1/kv/color');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      type: 'https://synod.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'not found',
      instance: '/v1/kv/color',
      key: 'color',
    });
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
  });

  it('pages through a prefix with after=<next>: every key once, in order, then next null', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `pg/${String(i).padStart(2, '0')}`);
    for (const k of keys) expect((await http(gw.base, 'PUT', `/v1/kv/${encodeURIComponent(k)}`, { body: { value: 'v' } })).status).toBe(200);
    const seen: string[] = [];
    const nexts: Array<string | null> = [];
    let after: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ key: string }>; next: string | null } } = await http(
        gw.base,
        'GET',
        `/v1/kv?prefix=pg/&limit=10${after === null ? '' : `&after=${encodeURIComponent(after)}`}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { key: string }) => i.key));
      after = page.body.next;
      nexts.push(after);
    } while (after !== null && nexts.length < 10);
    expect(seen).toEqual(keys);
    expect(nexts).toEqual(['pg/09', 'pg/19', null]); // the last page says it is the last
    // Exactly a page left: still null, no empty page after it.
    expect((await http(gw.base, 'GET', '/v1/kv?prefix=pg/&limit=5&after=pg/19')).body.next).toBeNull();
    const tooLong = await http(gw.base, 'GET', `/v1/kv?prefix=pg/&after=${'a'.repeat(65)}`);
    expect(tooLong.status).toBe(413);
    expect(tooLong.body.field).toBe('after');
    const twice = await http(gw.base, 'GET', '/v1/kv?prefix=pg/&after=a&after=b');
    expect(twice.status).toBe(400);
    expect(twice.body.field).toBe('after');
  });

  it('keys are one percent-encoded path segment', async () => {
    const key = 'a/b c?d#é%';
    const put = await http(gw.base, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { body: { value: 'x' } });
    expect(put.body.key).toBe(key);
    expect((await http(gw.base, 'GET', `/v1/kv/${encodeURIComponent(key)}`)).body.value).toBe('x');
  });

  it('the same Idempotency-Key twice with the same request is one effect with the first answer', async () => {
    const headers = { 'Idempotency-Key': 'idem-put-1' };
    const before = leader().proposedRequests;
    const first = await http(gw.base, 'PUT', '/v1/kv/counter', { body: { value: '1' }, headers });
    await http(gw.base, 'PUT', '/v1/kv/counter', { body: { value: '2' } });
    const second = await http(gw.base, 'PUT', '/v1/kv/counter', { body: { value: '1' }, headers });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(leader().proposedRequests - before).toBe(3); // all reached the leader...
    expect((await http(gw.base, 'GET', '/v1/kv/counter')).body.value).toBe('2'); // ...the retry took no effect
    // REST request ids live in their own namespace, with the request's fingerprint
    expect(leader().proposals.at(-1)?.requests[0]).toMatchObject({ id: 'rest:idem-put-1', fingerprint: expect.stringMatching(/^[\w-]{43}$/) });
  });

  it('concurrent writes travel batched: fewer propose frames than requests', async () => {
    const n = 40;
    // Open the connections first, as a keep-alive client would have them: otherwise the test
    // measures 40 TCP connects made one after another by this one process.
    await Promise.all(Array.from({ length: n }, () => http(gw.base, 'GET', '/health')));
    const framesBefore = leader().proposals.length;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => http(gw.base, 'PUT', `/v1/kv/batch-${i}`, { body: { value: String(i) } })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.revision)).size).toBe(n);
    const frames = leader().proposals.length - framesBefore;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(n);
    const metrics = await http(gw.base, 'GET', '/metrics');
    expect(metrics.text).toMatch(/synod_gateway_consensus_proposed_requests_total \d+/);
  });

  it('follows a redirect to the leader it names', async () => {
    const n1 = leader();
    const n2 = cluster.replicas.get('n2') as FakeReplica;
    // n1 still claims leadership in its beacons but refuses: it hands over to n2.
    n1.mode = { kind: 'redirect', leader: 'n2', reason: 'not-leader' };
    const n2Before = n2.proposals.length;
    try {
      const put = await http(gw.base, 'PUT', '/v1/kv/redirected', { body: { value: 'v' } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ key: 'redirected', value: 'v' });
      expect(n2.proposals.length).toBe(n2Before + 1);
      const m = await http(gw.base, 'GET', '/metrics');
      expect(m.text).toMatch(/synod_gateway_consensus_redirects_total\{reason="not-leader"\} [1-9]/);
    } finally {
      n1.mode = { kind: 'serve' };
    }
  });

  it('answers 504 with the request id when the leader takes the request and never answers', async () => {
    leader().mode = { kind: 'silent' };
    try {
      const started = Date.now();
      const put = await http(gw.base, 'PUT', '/v1/kv/lost', { body: { value: 'v' }, headers: { 'Idempotency-Key': 'lost-1' } });
      expect(put.status).toBe(504);
      expect(put.body).toEqual({
        type: 'https://synod.dev/problems/outcome-unknown',
        title: 'Outcome unknown',
        status: 504,
        detail: expect.stringContaining('unknown'),
        instance: '/v1/kv/lost',
        requestId: 'lost-1',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      // sent again on each attempt timeout, with the same id
      const sent = leader().proposals.filter((p) => p.requests.some((r) => r.id === 'rest:lost-1'));
      expect(sent.length).toBeGreaterThanOrEqual(3);
    } finally {
      leader().mode = { kind: 'serve' };
    }
    // retrying with the same key now gets the (one) result
    const retry = await http(gw.base, 'PUT', '/v1/kv/lost', { body: { value: 'v' }, headers: { 'Idempotency-Key': 'lost-1' } });
    expect(retry.status).toBe(200);
  });

  it('answers 503 with Retry-After when the leader only refuses for lack of quorum', async () => {
    leader().mode = { kind: 'redirect', leader: null, reason: 'no-quorum' };
    try {
      const put = await http(gw.base, 'PUT', '/v1/kv/refused', { body: { value: 'v' } });
      expect(put.status).toBe(503);
      expect(put.headers.get('retry-after')).toBe('1');
      expect(put.body).toMatchObject({ type: 'https://synod.dev/problems/unavailable', status: 503, reason: 'no-quorum' });
      expect(put.body.detail).toContain('no-quorum');
    } finally {
      leader().mode = { kind: 'serve' };
    }
  });

  it('/v1/cluster lists every configured node with the beacon fields', async () => {
    const c = await http(gw.base, 'GET', '/v1/cluster');
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ protocol: 'raft', leader: 'n1', term: 1 });
    expect(c.body.nodes.map((n: { id: string }) => n.id)).toEqual(['n1', 'n2', 'n3']);
    for (const n of c.body.nodes) {
      expect(n).toEqual(
        expect.objectContaining({
          role: expect.any(String),
          alive: true,
          commitIndex: expect.any(Number),
          appliedIndex: expect.any(Number),
          isolated: false,
          byzantine: 'none',
          lastSeenMs: expect.any(Number),
        }),
      );
    }
    expect(c.body.nodes[0].role).toBe('leader');
  });

  it('/health, /metrics, /docs and / answer', async () => {
    expect((await http(gw.base, 'GET', '/health')).body).toMatchObject({ status: 'ready', leader: 'n1' });
    const metrics = await http(gw.base, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/synod_gateway_http_request_duration_seconds_count\{method="PUT",route="\/v1\/kv\/:key",status="200"\} [1-9]/);
    expect(metrics.text).toMatch(/synod_gateway_http_request_duration_seconds_bucket\{le="\+Inf",method="PUT",route="\/v1\/kv\/:key",status="200"\} [1-9]/);
    expect(metrics.text).toMatch(/synod_gateway_bus_frames_total\{kind="sent"\} [1-9]/);
    const docs = await http(gw.base, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
    const spec = await http(gw.base, 'GET', '/docs-json');
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/v1/kv/{key}', '/v1/kv/{key}/cas', '/v1/kv', '/v1/cluster', '/v1/admin/nodes/{id}/kill', '/v1/commands', '/health', '/metrics']),
    );
    expect(Object.keys(spec.body.paths['/v1/kv/{key}'].put.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '503', '504']));
    const page = await http(gw.base, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('/lab/lab.js');
    expect(page.text).not.toMatch(/<(script|link)[^>]+(src|href)="?(https?:)?\/\//); // no external assets: the page's own files only
  });
});

describe('bad input', () => {
  const huge = (n: number): string => 'x'.repeat(n);
  const table: Array<[string, string, string, { body?: unknown; headers?: Record<string, string> }, number, Record<string, unknown>]> = [
    ['malformed JSON', 'PUT', '/v1/kv/k', { body: '{"value": "x"' }, 400, { detail: 'malformed JSON body', field: 'body' }],
    ['missing value', 'PUT', '/v1/kv/k', { body: {} }, 400, { field: 'value' }],
    ['no body at all', 'PUT', '/v1/kv/k', {}, 400, { field: 'value' }],
    ['value a string starting with U+0000 (the mark of stored JSON values)', 'PUT', '/v1/kv/k', { body: { value: '\u0000{}' } }, 400, { field: 'value' }],
    ['value missing', 'PUT', '/v1/kv/k', { body: { lease: 'x' } }, 400, { field: 'value' }],
    ['value a number JSON cannot carry back (1e400 parses to Infinity)', 'PUT', '/v1/kv/k', { body: '{"value":{"n":1e400}}' }, 400, { field: 'value' }],
    ['value nested deeper than 64', 'PUT', '/v1/kv/k', { body: `{"value":${'['.repeat(65)}${']'.repeat(65)}}` }, 400, { field: 'value' }],
    [
      'value nested 1500 deep (json-value.spec.ts goes deeper)',
      'PUT',
      '/v1/kv/k',
      { body: `{"value":${'['.repeat(1500)}${']'.repeat(1500)}}` },
      400,
      { field: 'value' },
    ],
    ['value null', 'PUT', '/v1/kv/k', { body: { value: null } }, 400, { field: 'value' }],
    ['body an array', 'PUT', '/v1/kv/k', { body: [1, 2] }, 400, { field: 'body' }],
    ['body a JSON string', 'PUT', '/v1/kv/k', { body: '"just a string"' }, 400, { field: 'body' }],
    ['lone surrogate in value', 'PUT', '/v1/kv/k', { body: '{"value": "\\ud800"}' }, 400, { field: 'value' }],
    ['huge key', 'PUT', `/v1/kv/${huge(65)}`, { body: { value: 'x' } }, 413, { field: 'key' }],
    ['huge key on read', 'GET', `/v1/kv/${huge(65)}`, {}, 413, { field: 'key' }],
    ['huge value', 'PUT', '/v1/kv/k', { body: { value: huge(1001) } }, 413, { field: 'value' }],
    ['huge multibyte value', 'PUT', '/v1/kv/k', { body: { value: 'é'.repeat(501) } }, 413, { field: 'value' }],
    ['body over the limit', 'PUT', '/v1/kv/k', { body: { value: huge(5000) } }, 413, {}],
    ['cas without expected', 'POST', '/v1/kv/k/cas', { body: { value: 'x' } }, 400, { field: 'expected' }],
    ['cas expected starting with U+0000', 'POST', '/v1/kv/k/cas', { body: { expected: '\u0000', value: 'x' } }, 400, { field: 'expected' }],
    ['cas huge expected', 'POST', '/v1/kv/k/cas', { body: { expected: huge(1001), value: 'x' } }, 413, { field: 'expected' }],
    ['Idempotency-Key too long', 'PUT', '/v1/kv/k', { body: { value: 'x' }, headers: { 'Idempotency-Key': huge(201) } }, 400, { field: 'Idempotency-Key' }],
    ['bad consistency', 'GET', '/v1/kv/k?consistency=eventual', {}, 400, { field: 'consistency' }],
    ['limit too big', 'GET', '/v1/kv?limit=1001', {}, 400, { field: 'limit' }],
    ['limit not a number', 'GET', '/v1/kv?limit=ten', {}, 400, { field: 'limit' }],
    ['limit given twice', 'GET', '/v1/kv?limit=1&limit=2', {}, 400, { field: 'limit' }],
    ['prefix given twice', 'GET', '/v1/kv?prefix=a&prefix=b', {}, 400, { field: 'prefix' }],
    ['broken percent-encoding', 'GET', '/v1/kv/%E0%A4%A', {}, 400, {}],
    ['unknown route', 'GET', '/v1/nothing', {}, 404, {}],
    ['unknown node', 'POST', '/v1/admin/nodes/n9/kill', {}, 404, {}],
    ['byzantine on raft', 'POST', '/v1/admin/nodes/n1/byzantine', { body: { behavior: 'forge' } }, 400, {}],
    ['bad kill mode', 'POST', '/v1/admin/nodes/n1/kill?mode=gentle', {}, 400, { field: 'mode' }],
    ['commands not an array', 'POST', '/v1/commands', { body: { commands: 'put' } }, 400, { field: 'commands' }],
    ['commands empty', 'POST', '/v1/commands', { body: { commands: [] } }, 400, { field: 'commands' }],
    ['command with bad op', 'POST', '/v1/commands', { body: { commands: [{ op: 'get', key: 'a' }] } }, 400, { field: 'commands[0].op' }],
    ['command that is not an object', 'POST', '/v1/commands', { body: { commands: [null] } }, 400, { field: 'commands[0]' }],
    [
      'cas command without expected',
      'POST',
      '/v1/commands',
      { body: { commands: [{ op: 'cas', key: 'a', value: 'b' }] } },
      400,
      { field: 'commands[0].expected' },
    ],
    ['command with an empty key', 'POST', '/v1/commands', { body: { commands: [{ op: 'delete', key: '' }] } }, 400, { field: 'commands[0].key' }],
    [
      'lone surrogate in a command value',
      'POST',
      '/v1/commands',
      { body: '{"commands": [{"op": "put", "key": "a", "value": "\\udc00"}]}' },
      400,
      { field: 'commands[0].value' },
    ],
    ['commands body an array', 'POST', '/v1/commands', { body: [] }, 400, { field: 'body' }],
    [
      'empty Idempotency-Key on a batch',
      'POST',
      '/v1/commands',
      { body: { commands: [{ op: 'delete', key: 'a' }] }, headers: { 'Idempotency-Key': '' } },
      400,
      { field: 'Idempotency-Key' },
    ],
    ['bad byzantine behavior', 'POST', '/v1/admin/nodes/n1/byzantine', { body: { behavior: 'chaotic' } }, 400, { field: 'behavior' }],
    ['huge prefix', 'GET', `/v1/kv?prefix=${huge(65)}`, {}, 413, { field: 'prefix', limit: 64 }],
    [
      'command with huge value',
      'POST',
      '/v1/commands',
      {
        body: {
          commands: [
            { op: 'put', key: 'a', value: 'v' },
            { op: 'put', key: 'b', value: huge(1001) },
          ],
        },
      },
      413,
      { field: 'commands[1].value' },
    ],
    ['unknown command job', 'GET', '/v1/commands/no-such-job', {}, 404, {}],
    [
      'text/plain body',
      'PUT',
      '/v1/kv/k',
      { body: 'value=x', headers: { 'content-type': 'text/plain' } },
      415,
      { type: 'https://synod.dev/problems/unsupported-media-type', contentType: 'text/plain' },
    ],
    ['unsupported charset', 'PUT', '/v1/kv/k', { body: '{"value":"x"}', headers: { 'content-type': 'application/json; charset=klingon' } }, 415, {}],
    ['unsupported encoding', 'PUT', '/v1/kv/k', { body: '{"value":"x"}', headers: { 'content-encoding': 'zstd-ish' } }, 415, {}],
  ];

  it.each(table)('%s → %s %s answers %#', async (_name, method, path, opts, status, fields) => {
    const res = await http(gw.base, method, path, opts);
    expect(res.status).toBe(status);
    // RFC 9457 problem details; `instance` is the path without the query string
    expect(res.body).toEqual(
      expect.objectContaining({
        type: expect.any(String),
        title: expect.any(String),
        status,
        detail: expect.any(String),
        instance: path.split('?')[0],
        ...fields,
      }),
    );
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('problem details name the type, the field and the limit, with the words of the old `error`', async () => {
    const bad = await http(gw.base, 'PUT', '/v1/kv/k', { body: { value: null } });
    expect(bad.body).toEqual({
      type: 'https://synod.dev/problems/invalid-field',
      title: 'A request field is invalid',
      status: 400,
      detail: 'value must not be null (null stands for "absent": a cas expecting no key, a deleted key in a watch)',
      instance: '/v1/kv/k',
      field: 'value',
    });
    const big = await http(gw.base, 'PUT', `/v1/kv/${huge(65)}`, { body: { value: 'x' } });
    expect(big.body).toMatchObject({
      type: 'https://synod.dev/problems/too-large',
      status: 413,
      detail: 'key is larger than 64 bytes',
      field: 'key',
      limit: 64,
    });
    const batch = await http(gw.base, 'POST', '/v1/commands', { body: { commands: [{ op: 'get', key: 'a' }] } });
    expect(batch.body).toMatchObject({ field: 'commands[0].op', detail: 'commands[0].op must be "put", "delete" or "cas", got "get"' });
    const list = await http(gw.base, 'GET', '/v1/kv?limit=ten');
    expect(list.body).toMatchObject({ field: 'limit', detail: 'limit must be an integer from 1 to 1000, got "ten"' });
    const route = await http(gw.base, 'GET', '/v1/nothing');
    expect(route.body).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404, instance: '/v1/nothing' });
  });

  it('odd input never yields a 500, and the gateway keeps serving', async () => {
    const odd: Array<[string, string, { body?: unknown; headers?: Record<string, string> }]> = [
      ['PUT', '/v1/kv/k', { body: '{"value": {"nested": [1, {"x": null}]}}' }],
      ['PUT', '/v1/kv/k', { body: 'null' }],
      ['PUT', '/v1/kv/k', { body: '\u0000\u0001' }],
      ['PUT', '/v1/kv/k', { body: '{"value": "x", "__proto__": {"polluted": true}}' }],
      ['PUT', '/v1/kv/%00', { body: { value: 'nul key' } }],
      ['POST', '/v1/kv/k/cas', { body: '{"expected": [], "value": "x"}' }],
      ['POST', '/v1/commands', { body: { commands: [null] } }],
      ['POST', '/v1/commands', { body: { commands: Array.from({ length: 1001 }, () => ({ op: 'delete', key: 'a' })) } }],
      ['POST', '/v1/commands', { body: '{"commands": [{"op": "cas", "key": "a", "value": "b"}]}' }],
      ['GET', '/v1/kv?limit=-1', {}],
      ['GET', '/v1/kv?limit=1e3', {}],
      ['GET', '/v1/kv?prefix[a]=1', {}],
      ['GET', '/v1/kv/k?consistency[]=stale', {}],
      ['DELETE', '/v1/kv/k', { headers: { 'Idempotency-Key': '' } }],
      ['POST', '/v1/admin/nodes/n1/byzantine', { body: '[]' }],
      ['POST', '/v1/admin/nodes/%ZZ/kill', {}],
      ['GET', '/v1/commands/%2F..%2F..', {}],
      ['PATCH', '/v1/kv/k', { body: { value: 'x' } }],
    ];
    for (const [method, path, opts] of odd) {
      const res = await http(gw.base, method, path, opts);
      expect({ method, path, status: res.status < 500 }).toEqual({ method, path, status: true });
      if (res.status >= 400)
        expect({ path, method, detail: typeof res.body?.detail, text: typeof res.body?.detail === 'string' ? '' : res.text }).toEqual({
          path,
          method,
          detail: 'string',
          text: '',
        });
    }
    // nothing polluted, and the gateway still works
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const put = await http(gw.base, 'PUT', '/v1/kv/after-bad-input', { body: { value: 'fine' } });
    expect(put.status).toBe(200);
    const nulKey = await http(gw.base, 'GET', '/v1/kv/%00');
    expect(nulKey.body).toMatchObject({ key: '\u0000', value: 'nul key' });
  });
});

describe('no leader', () => {
  let lonely: RunningGateway;
  let follower: FakeReplica;

  beforeAll(async () => {
    follower = await new FakeReplica({ url: redis.url, cluster: 'leaderless', id: 'n1', store: new FakeStore(), role: 'follower' }).start();
    lonely = await startGateway({ BUS_URL: redis.url, CLUSTER: 'leaderless', NODES: 'n1,n2,n3' }, { requestTimeoutMs: 600, attemptTimeoutMs: 200 });
  });
  afterAll(async () => {
    await lonely?.close();
    await follower?.stop();
  });

  it('answers 503 with Retry-After for writes and reads, and sends nothing', async () => {
    for (const [method, path, body] of [
      ['PUT', '/v1/kv/k', { value: 'v' }],
      ['GET', '/v1/kv/k', undefined],
      ['GET', '/v1/kv', undefined],
    ] as const) {
      const res = await http(lonely.base, method, path, { body });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.detail).toContain('no leader');
    }
    expect(follower.proposals).toHaveLength(0);
    const c = await http(lonely.base, 'GET', '/v1/cluster');
    expect(c.body.leader).toBeNull();
    expect(c.body.nodes).toEqual([
      expect.objectContaining({ id: 'n1', role: 'follower', alive: true }),
      expect.objectContaining({ id: 'n2', role: 'unknown', alive: false, lastSeenMs: null }),
      expect.objectContaining({ id: 'n3', role: 'unknown', alive: false, lastSeenMs: null }),
    ]);
  });

  it('a stale read goes to any alive node when there is no leader', async () => {
    const res = await http(lonely.base, 'GET', '/v1/kv/k?consistency=stale');
    expect(res.status).toBe(404);
    expect(follower.reads.at(-1)).toMatchObject({ consistency: 'stale', query: { op: 'get', key: 'k' } });
  });

  it('a request waiting for a leader goes as soon as one appears', async () => {
    // A quorum alive and no leader yet (an election): the request waits. With no quorum it would get 503 at once.
    const others = await Promise.all(['n2', 'n3'].map((id) => new FakeReplica({ url: redis.url, cluster: 'leaderless', id, store: new FakeStore() }).start()));
    try {
      await waitUntil('a quorum alive', async () => (await http(lonely.base, 'GET', '/health/ready')).body.checks?.quorum === true);
      const pending = http(lonely.base, 'PUT', '/v1/kv/late', { body: { value: 'v' } });
      await new Promise((r) => setTimeout(r, 150));
      follower.become('leader', 2);
      const res = await pending;
      expect(res.status).toBe(200);
      follower.become('follower', 2);
    } finally {
      await Promise.all(others.map((o) => o.stop()));
    }
  });
});
