import { request as httpRequest } from 'node:http';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startFakeCluster } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';

/**
 * The lean KV routes (kv.fast-path.ts) against Express and Nest: two gateways, one with the lean
 * routes and one without, each in front of its own fake cluster, get the same requests in the same
 * order and must give the same answers — status, body, and the headers a client reads — and count
 * them in the same metric series. The lean gateway's own counter shows which requests it took, so
 * that the comparison is not between two Express paths.
 */

jest.setTimeout(60_000);

let redis: TestRedis;
const clusters: Array<Awaited<ReturnType<typeof startFakeCluster>>> = [];
let lean: RunningGateway;
let nest: RunningGateway;

const ENV = { NODES: 'n1,n2,n3', MAX_KEY_BYTES: '64', MAX_VALUE_BYTES: '1000', BODY_LIMIT: '4kb' };

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  for (const CLUSTER of ['leanA', 'leanB']) clusters.push(await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']));
  const timeouts = { requestTimeoutMs: 2000, attemptTimeoutMs: 400 };
  lean = await startGateway({ ...ENV, BUS_URL: redis.url, CLUSTER: 'leanA' }, timeouts);
  nest = await startGateway({ ...ENV, BUS_URL: redis.url, CLUSTER: 'leanB' }, timeouts, { leanRoutes: false });
  for (const gw of [lean, nest]) await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});

afterAll(async () => {
  await lean?.close();
  await nest?.close();
  for (const c of clusters) await c.stop();
  await redis?.stop();
});

interface Raw {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** The headers a client of this API reads (Date and the request id differ by nature: the id is compared as present or not). */
const COMPARED = ['content-type', 'content-length', 'connection', 'vary', 'retry-after', 'access-control-allow-origin', 'etag', 'x-powered-by'];

function send(base: string, r: Raw): Promise<Answer> {
  const url = new URL(base);
  const headers: Record<string, string> = { host: `127.0.0.1:${url.port}`, ...r.headers };
  // Node's client sends a DELETE's body without a length unless told: say it, as other clients do.
  if (r.body !== undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = Object.fromEntries(COMPARED.map((h) => [h, res.headers[h] as string | undefined]));
        headers['x-request-id'] = typeof res.headers['x-request-id'] === 'string' ? 'present' : 'absent';
        // Keep-alive answers; Node writes them alike on both paths.
        if (headers.connection === 'keep-alive') headers.connection = undefined;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const json = (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Raw => ({
  method,
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Requests the lean routes take: the plain forms, right and wrong. */
const TAKEN: Array<[string, Raw]> = [
  ['put', json('PUT', '/v1/kv/color', { value: 'blue' })],
  ['put with charset', json('PUT', '/v1/kv/color', { value: 'red' }, { 'content-type': 'application/json; charset=UTF-8' })],
  ['get', { method: 'GET', path: '/v1/kv/color' }],
  ['get stale', { method: 'GET', path: '/v1/kv/color?consistency=stale' }],
  ['get bad consistency', { method: 'GET', path: '/v1/kv/color?consistency=fast' }],
  ['get consistency twice', { method: 'GET', path: '/v1/kv/color?consistency=stale&consistency=linearizable' }],
  ['get missing', { method: 'GET', path: '/v1/kv/nothing' }],
  ['percent-encoded key', json('PUT', `/v1/kv/${encodeURIComponent('a/b c?é')}`, { value: 'x' })],
  ['get percent-encoded key', { method: 'GET', path: `/v1/kv/${encodeURIComponent('a/b c?é')}` }],
  ['key over its limit', json('PUT', `/v1/kv/${'k'.repeat(65)}`, { value: 'x' })],
  ['value over its limit', json('PUT', '/v1/kv/big', { value: 'v'.repeat(1001) })],
  ['body over BODY_LIMIT', json('PUT', '/v1/kv/big', { value: 'v'.repeat(5000) })],
  ['malformed JSON', json('PUT', '/v1/kv/color', '{"value": ')],
  ['JSON array', json('PUT', '/v1/kv/color', [1, 2])],
  ['value not a string', json('PUT', '/v1/kv/color', { value: 5 })],
  ['value missing', json('PUT', '/v1/kv/color', {})],
  ['empty JSON body', { method: 'PUT', path: '/v1/kv/color', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: '' }],
  ['no body', { method: 'PUT', path: '/v1/kv/color' }],
  ['lone surrogate', json('PUT', '/v1/kv/color', '{"value":"\\ud800"}')],
  ['byte order mark', json('PUT', '/v1/kv/color', '\uFEFF{"value":"bom"}')],
  ['idempotency key', json('PUT', '/v1/kv/idem', { value: 'one' }, { 'idempotency-key': 'fast-1' })],
  ['idempotency key retried', json('PUT', '/v1/kv/idem', { value: 'one' }, { 'idempotency-key': 'fast-1' })],
  ['idempotency key reused for another body', json('PUT', '/v1/kv/idem', { value: 'two' }, { 'idempotency-key': 'fast-1' })],
  ['idempotency key too long', json('PUT', '/v1/kv/idem', { value: 'one' }, { 'idempotency-key': 'k'.repeat(201) })],
  ['cas fails', json('POST', '/v1/kv/color/cas', { expected: 'green', value: 'x' })],
  ['cas succeeds', json('POST', '/v1/kv/color/cas', { expected: 'bom', value: 'cyan' })],
  ['cas on absent', json('POST', '/v1/kv/shape/cas', { expected: null, value: 'round' })],
  ['cas without expected', json('POST', '/v1/kv/shape/cas', { value: 'round' })],
  ['delete', { method: 'DELETE', path: '/v1/kv/color' }],
  ['delete again', { method: 'DELETE', path: '/v1/kv/color' }],
  ['delete with idempotency key', { method: 'DELETE', path: '/v1/kv/shape', headers: { 'idempotency-key': 'fast-del' } }],
];

/** Requests the lean routes leave to Express: other spellings, other bodies, other guards. */
const LEFT: Array<[string, Raw]> = [
  ['text/plain body', { method: 'PUT', path: '/v1/kv/color', headers: { 'content-type': 'text/plain' }, body: '{"value":"x"}' }],
  ['form body', { method: 'PUT', path: '/v1/kv/color', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=x' }],
  ['latin1 charset', json('PUT', '/v1/kv/color', { value: 'x' }, { 'content-type': 'application/json; charset=latin1' })],
  ['cross-origin write', json('PUT', '/v1/kv/color', { value: 'x' }, { origin: 'https://evil.example' })],
  ['DNS-rebinding Host', { method: 'GET', path: '/v1/kv/color', headers: { host: 'evil.example' } }],
  ['upper-case path', { method: 'GET', path: '/V1/KV/color' }],
  ['trailing slash', { method: 'GET', path: '/v1/kv/color/' }],
  ['bad percent-encoding', { method: 'GET', path: '/v1/kv/%E0%A4%A' }],
  ['GET on cas', { method: 'GET', path: '/v1/kv/color/cas' }],
  ['PATCH', json('PATCH', '/v1/kv/color', { value: 'x' })],
  ['HEAD', { method: 'HEAD', path: '/v1/kv/color' }],
  ['DELETE with a body', json('DELETE', '/v1/kv/color', { value: 'x' })],
  ['list', { method: 'GET', path: '/v1/kv?prefix=' }],
];

async function leanTaken(): Promise<number> {
  const text = (await http(lean.base, 'GET', '/metrics')).text;
  return [...text.matchAll(/^synod_gateway_http_lean_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('lean KV routes answer as Express and Nest do', () => {
  it.each(TAKEN)('%s: the same answer, from the lean route', async (_name, r) => {
    const before = await leanTaken();
    const a = await send(lean.base, r);
    const b = await send(nest.base, r);
    expect(a).toEqual(b);
    expect(await leanTaken()).toBe(before + 1);
  });

  it.each(LEFT)('%s: left to Express, the same answer', async (_name, r) => {
    const before = await leanTaken();
    const a = await send(lean.base, r);
    const b = await send(nest.base, r);
    expect(a).toEqual(b);
    expect(await leanTaken()).toBe(before);
  });

  it('count the same requests in the same metric series', async () => {
    const series = async (gw: RunningGateway): Promise<string[]> =>
      (await http(gw.base, 'GET', '/metrics')).text
        .split('\n')
        .filter((l) => /^synod_gateway_http_request_duration_seconds_count\{[^}]*route="(\/v1\/kv|middleware)/.test(l));
    expect(await series(lean)).toEqual(await series(nest));
    expect((await series(lean)).length).toBeGreaterThan(5);
  });
});
