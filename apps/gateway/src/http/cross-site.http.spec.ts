import { request } from 'node:http';
import { type ControlStatus } from '@app/wire';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startControlServer, type ControlServer } from '../testing/control-server';
import { FakeReplica, startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

/**
 * What a web page in a user's browser can make the gateway do. A page may send, to any origin and
 * without asking, a POST with a text/plain, x-www-form-urlencoded or multipart/form-data body (a
 * "simple request"); the gateway must apply none of them. Anything else needs a CORS preflight,
 * which it grants only to CORS_ORIGINS.
 */

jest.setTimeout(30_000);

const CLUSTER = 'xsite';
let redis: TestRedis;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
let control: ControlServer;
/** No ADMIN_TOKEN (the default on loopback): only the content-type rule stands in the way. */
let gw: RunningGateway;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  const status: ControlStatus = {
    id: 'n1',
    alive: true,
    isolated: false,
    byzantine: 'none',
    role: 'leader',
    term: 1,
    leader: 'n1',
    commitIndex: 0,
    appliedIndex: 0,
    pid: 1,
  };
  control = await startControlServer(redis.url, [{ replica: cluster.replicas.get('n1')!, handle: () => status }]);
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3' }, { requestTimeoutMs: 2000, attemptTimeoutMs: 400 });
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});

afterAll(async () => {
  await gw?.close();
  await control?.close();
  await cluster?.stop();
  await redis?.stop();
});

const leader = (): FakeReplica => cluster.replicas.get('n1') as FakeReplica;

/** A raw request: `contentType` null sends a body with no Content-Type at all. */
async function send(base: string, method: string, path: string, body: string | null, contentType: string | null, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (contentType !== null) h['content-type'] = contentType;
  // Bytes, not a string: fetch adds text/plain to a string body by itself.
  const res = await fetch(base + path, { method, headers: h, body: body === null ? undefined : new TextEncoder().encode(body) });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const FORM_BOUNDARY = 'xyz';
/** What a page's <form> or fetch(..., {mode: 'no-cors'}) can send, each with the JSON a careless parser would accept. */
const simpleBodies: Array<[string, string | null, (json: string) => string]> = [
  ['text/plain', 'text/plain', (json) => json],
  ['text/plain with a charset', 'text/plain;charset=UTF-8', (json) => json],
  ['x-www-form-urlencoded', 'application/x-www-form-urlencoded', (json) => json],
  ['multipart/form-data', `multipart/form-data; boundary=${FORM_BOUNDARY}`, (json) => json],
  ['no content type', null, (json) => json],
];

const writes: Array<[string, string, string]> = [
  ['cas', 'POST', '/v1/kv/x/cas'],
  ['put', 'PUT', '/v1/kv/x'],
  ['batch', 'POST', '/v1/commands'],
  ['admin kill', 'POST', '/v1/admin/nodes/n1/kill'],
];

const bodyFor: Record<string, string> = {
  cas: JSON.stringify({ expected: null, value: 'pwned' }),
  put: JSON.stringify({ value: 'pwned' }),
  batch: JSON.stringify({ commands: [{ op: 'put', key: 'x', value: 'pwned' }] }),
  'admin kill': JSON.stringify({}),
};

describe('a request body that is not application/json', () => {
  it.each(simpleBodies.flatMap(([name, type, shape]) => writes.map(([what, method, path]) => [what, name, method, path, type, shape] as const)))(
    '%s with %s → 415, nothing applied',
    async (what, _name, method, path, type, shape) => {
      const proposals = leader().proposedRequests;
      const controlCalls = control.calls.length;
      const res = await send(gw.base, method, path, shape(bodyFor[what]), type, { 'Idempotency-Key': `xsite-${what}` });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toEqual({
        type: 'https://synod.dev/problems/unsupported-media-type',
        title: 'The request body must be application/json',
        status: 415,
        detail: type === null ? expect.stringContaining('no Content-Type') : expect.stringContaining(JSON.stringify(type)),
        instance: path,
        contentType: type,
      });
      // nothing reached the cluster, the control plane or the queue
      expect(leader().proposedRequests).toBe(proposals);
      expect(control.calls.length).toBe(controlCalls);
      expect((await http(gw.base, 'GET', '/v1/kv/x')).status).toBe(404);
      expect((await http(gw.base, 'GET', `/v1/commands/${encodeURIComponent(`xsite-${what}`)}`)).status).toBe(404);
    },
  );

  it('application/json, with or without a charset and in any case, is taken', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      const res = await send(gw.base, 'PUT', '/v1/kv/json-ok', JSON.stringify({ value: type }), type);
      expect({ type, status: res.status }).toEqual({ type, status: 200 });
    }
    expect((await http(gw.base, 'GET', '/v1/kv/json-ok')).body.value).toBe('Application/JSON;charset="UTF-8"');
    // and application/*+json or JSON-looking types are not JSON
    expect((await send(gw.base, 'PUT', '/v1/kv/json-ok', JSON.stringify({ value: 'x' }), 'application/merge-patch+json')).status).toBe(415);
  });

  it('a request without a body needs no content type: DELETE, admin POSTs', async () => {
    await http(gw.base, 'PUT', '/v1/kv/to-delete', { body: { value: 'v' } });
    const del = await send(gw.base, 'DELETE', '/v1/kv/to-delete', null, null);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ key: 'to-delete', deleted: true });
    // an empty body with a form type is no body either (and no JSON to misread)
    const kill = await send(gw.base, 'POST', '/v1/admin/nodes/n1/kill', '', 'text/plain');
    expect(kill.status).toBe(200);
    expect(control.calls.at(-1)?.data).toEqual({ action: 'kill' });
  });
});

describe('cross-origin writes', () => {
  it('no CORS by default: no Access-Control-* header on reads, writes or preflights', async () => {
    const origin = { Origin: 'https://evil.example' };
    const read = await http(gw.base, 'GET', '/v1/kv/x', { headers: origin });
    const write = await http(gw.base, 'PUT', '/v1/kv/cors-none', { body: { value: 'v' } });
    const preflight = await http(gw.base, 'OPTIONS', '/v1/kv/x', {
      headers: { ...origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    for (const res of [read, write, preflight]) {
      expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });

  it('a write from a page of another origin is refused, even without a body (403, nothing applied)', async () => {
    const calls = control.calls.length;
    const proposals = leader().proposedRequests;
    for (const origin of ['https://evil.example', 'null']) {
      const kill = await send(gw.base, 'POST', '/v1/admin/nodes/n1/kill', null, null, { Origin: origin });
      expect(kill.status).toBe(403);
      expect(kill.body).toMatchObject({ type: 'https://synod.dev/problems/cross-origin', status: 403, origin, instance: '/v1/admin/nodes/n1/kill' });
      const del = await send(gw.base, 'DELETE', '/v1/kv/json-ok', null, null, { Origin: origin });
      expect(del.status).toBe(403);
      const put = await send(gw.base, 'PUT', '/v1/kv/x', JSON.stringify({ value: 'pwned' }), 'application/json', { Origin: origin });
      expect(put.status).toBe(403);
    }
    expect(control.calls.length).toBe(calls);
    expect(leader().proposedRequests).toBe(proposals);
    expect((await http(gw.base, 'GET', '/v1/kv/json-ok')).status).toBe(200);
    // reads are not writes; same-origin writes (the dashboard) pass
    expect((await http(gw.base, 'GET', '/v1/kv/json-ok', { headers: { Origin: 'https://evil.example' } })).status).toBe(200);
    const own = await send(gw.base, 'POST', '/v1/admin/nodes/n1/heal', '{}', 'application/json', { Origin: gw.base });
    expect(own.status).toBe(200);
  });

  describe('with CORS_ORIGINS', () => {
    let open: RunningGateway;
    const APP = 'https://app.example';

    beforeAll(async () => {
      open = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', CORS_ORIGINS: `${APP}, http://localhost:5173` });
      await waitUntil('leader known', async () => (await http(open.base, 'GET', '/health')).body.leader === 'n1');
    });
    afterAll(async () => {
      await open?.close();
    });

    it('answers the preflight of a listed origin, and takes its JSON writes', async () => {
      const preflight = await http(open.base, 'OPTIONS', '/v1/kv/cors-ok', {
        headers: { Origin: APP, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(APP);
      const put = await http(open.base, 'PUT', '/v1/kv/cors-ok', { body: { value: 'v' }, headers: { Origin: APP } });
      expect(put.status).toBe(200);
      expect(put.headers.get('access-control-allow-origin')).toBe(APP);
    });

    it('still refuses other origins and non-JSON bodies from listed ones', async () => {
      const other = await http(open.base, 'PUT', '/v1/kv/cors-ok', { body: { value: 'w' }, headers: { Origin: 'https://evil.example' } });
      expect(other.status).toBe(403);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const plain = await send(open.base, 'PUT', '/v1/kv/cors-ok', JSON.stringify({ value: 'w' }), 'text/plain', { Origin: APP });
      expect(plain.status).toBe(415);
      expect((await http(open.base, 'GET', '/v1/kv/cors-ok')).body.value).toBe('v');
    });
  });
});

/** A request with a Host header of our choosing (fetch sets Host from the URL). */
function withHost(base: string, method: string, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers: { ...headers, host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DNS rebinding (no ADMIN_TOKEN)', () => {
  it('refuses every request whose Host is not a loopback name or the HOST, even "same origin" (403, nothing applied)', async () => {
    const calls = control.calls.length;
    const proposals = leader().proposedRequests;
    const port = new URL(gw.base).port;
    // The page of evil.example, now resolving to 127.0.0.1: its Origin and Host agree.
    const rebound = { Origin: `http://evil.example:${port}` };
    for (const host of [`evil.example:${port}`, 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:1', 'a b', '[::2]:1']) {
      const kill = await withHost(gw.base, 'POST', '/v1/admin/nodes/n1/kill', host, rebound);
      expect({ host, status: kill.status }).toEqual({ host, status: 403 });
      expect(kill.body).toMatchObject({ type: 'https://synod.dev/problems/host-not-allowed', status: 403, host, instance: '/v1/admin/nodes/n1/kill' });
      // reads too: the page could read every value
      expect((await withHost(gw.base, 'GET', '/v1/kv/json-ok', host)).status).toBe(403);
    }
    expect(control.calls.length).toBe(calls);
    expect(leader().proposedRequests).toBe(proposals);
  });

  it('serves localhost, 127.x and [::1], with or without a port, in any case', async () => {
    const port = new URL(gw.base).port;
    for (const host of [`localhost:${port}`, 'LocalHost', `127.0.0.1:${port}`, '127.0.0.2', `[::1]:${port}`, '[::1]']) {
      const res = await withHost(gw.base, 'GET', '/v1/kv/json-ok', host);
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
    }
  });

  it('with ADMIN_TOKEN the Host is not checked (the token is the door)', async () => {
    const locked = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: 't' });
    try {
      expect((await withHost(locked.base, 'GET', '/health/live', 'gateway.example')).status).toBe(200);
    } finally {
      await locked.close();
    }
  });
});
