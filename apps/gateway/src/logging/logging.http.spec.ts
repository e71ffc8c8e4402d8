import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { createGatewayApp } from '../app';
import { loadConfig } from '../config/config';
import { startFakeCluster } from '../testing/fake-replica';
import { http, waitUntil } from '../testing/gateway-harness';
import { testKeysDir } from '../testing/test-keys';

jest.setTimeout(30_000);

const CLUSTER = 'logginghttp';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let redis: TestRedis;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
let app: INestApplication;
let base: string;
/** Every line the gateway logged, as written. */
const raw: string[] = [];
let startupLines: Array<Record<string, unknown>> = [];

const lines = (): Array<Record<string, unknown>> => raw.map((l) => JSON.parse(l) as Record<string, unknown>);
const requestLine = (id: string) => lines().find((l) => (l.req as { id?: string } | undefined)?.id === id && typeof l.responseTime === 'number');

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3', ADMIN_TOKEN: 'sesame-secret', KEYS_DIR: testKeysDir() });
  app = await createGatewayApp(config, { logLevel: 'debug', logDestination: destination });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  startupLines = lines();
  await waitUntil('leader known', async () => (await http(base, 'GET', '/health')).body.leader === 'n1');
});

afterAll(async () => {
  await app?.close();
  await cluster?.stop();
  await redis?.stop();
});

describe('gateway logs', () => {
  it('are JSON lines without colour codes; start-up says a few things at info, route and module lines only at debug', () => {
    expect(raw.length).toBeGreaterThan(0);
    for (const l of raw) {
      expect(l).not.toContain('\u001b['); // no ANSI colour codes
      expect(() => JSON.parse(l)).not.toThrow();
    }
    const info = startupLines.filter((l) => l.level !== 'debug' && l.level !== 'trace');
    expect(info.length).toBeLessThanOrEqual(3);
    expect(info.some((l) => ['RoutesResolver', 'RouterExplorer', 'InstanceLoader'].includes(String(l.context)))).toBe(false);
    // still there for LOG_LEVEL=debug
    expect(startupLines.some((l) => l.context === 'RouterExplorer' && l.level === 'debug')).toBe(true);
    expect(startupLines[0]).toMatchObject({ service: 'gateway', time: expect.stringMatching(/^\d{4}-/) });
  });

  it('honour a sane X-Request-Id, echo it, and log the request under it', async () => {
    const res = await http(base, 'GET', '/v1/cluster', { headers: { 'X-Request-Id': 'trace-42.a' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-42.a');
    await waitUntil('request line', () => requestLine('trace-42.a') !== undefined);
    expect(requestLine('trace-42.a')).toMatchObject({ level: 'debug', req: { id: 'trace-42.a', method: 'GET', url: '/v1/cluster' }, res: { statusCode: 200 } });
  });

  it.each([
    ['none', undefined],
    ['one with a space', 'a b'],
    ['one too long', 'x'.repeat(200)],
    ['one with a quote', 'a"b'],
  ])('give a request with %s a fresh UUID', async (_what, given) => {
    const res = await http(base, 'GET', '/v1/cluster', { headers: given === undefined ? {} : { 'X-Request-Id': given } });
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  it('cover a request the body parser refuses: id header, logged at info', async () => {
    const res = await http(base, 'PUT', '/v1/kv/k', { body: '{"value": "x"', headers: { 'X-Request-Id': 'broken-body' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('broken-body');
    await waitUntil('request line', () => requestLine('broken-body') !== undefined);
    expect(requestLine('broken-body')).toMatchObject({ level: 'info', res: { statusCode: 400 } });
  });

  it('never contain the admin token or a password from a URL', async () => {
    const res = await http(base, 'POST', '/v1/admin/nodes/n9/kill', { headers: { authorization: 'Bearer sesame-secret', 'X-Request-Id': 'admin-1' } });
    expect(res.status).toBe(404);
    await http(base, 'GET', '/v1/kv/k?password=hunter2&consistency=stale', { headers: { 'X-Request-Id': 'pw-1' } });
    await waitUntil('request lines', () => requestLine('admin-1') !== undefined && requestLine('pw-1') !== undefined);
    expect(raw.join('\n')).not.toMatch(/sesame-secret|hunter2|PRIVATE KEY/);
    expect(requestLine('pw-1')).toMatchObject({ req: { url: '/v1/kv/k?password=***&consistency=stale' } });
  });
});
