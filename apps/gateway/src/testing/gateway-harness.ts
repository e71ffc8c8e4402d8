import type { INestApplication } from '@nestjs/common';
import { createGatewayApp, type GatewayAppOptions } from '../app';
import { GatewayBus } from '../bus/gateway-bus';
import { loadConfig, type GatewayConfig } from '../config/config';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startFakeCluster } from './fake-replica';
import { testKeysDir } from './test-keys';

type FakeCluster = Awaited<ReturnType<typeof startFakeCluster>>;

export interface RunningGateway {
  app: INestApplication;
  config: GatewayConfig;
  /** http://127.0.0.1:<port> */
  base: string;
  close(): Promise<void>;
}

/**
 * A gateway on a free port, configured from `env` (BUS_URL etc.) plus direct overrides. Its bus keys
 * come from testKeysDir() (where FakeReplica finds its own) unless `env` names another KEYS_DIR.
 */
export async function startGateway(
  env: Record<string, string>,
  overrides: Partial<GatewayConfig> = {},
  appOpts: GatewayAppOptions = {},
): Promise<RunningGateway> {
  const config = { ...loadConfig({ KEYS_DIR: testKeysDir(), ...env }), ...overrides };
  // GATEWAY_TEST_LOGS=1 shows the gateway's JSON log lines (at LOG_LEVEL).
  const app = await createGatewayApp(config, { logger: process.env.GATEWAY_TEST_LOGS ? undefined : false, ...appOpts });
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    base: `http://127.0.0.1:${addr.port}`,
    close: () => app.close(),
  };
}

export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call; the body is sent as given when a string, else as JSON. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/**
 * Until the gateway has taken an authenticated frame (a beacon) from each of `ids`: before that its
 * control plane sends them nothing (it does not know their incarnations yet).
 */
export async function waitForReplicas(gw: RunningGateway, ids: string[], timeoutMs = 5000): Promise<void> {
  const auth = gw.app.get(GatewayBus).auth;
  await waitUntil(`the gateway to hear ${ids.join(', ')}`, () => ids.every((id) => auth.incarnationOf(id) !== undefined), timeoutMs);
}

export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface FakeClusterGateway {
  redis: TestRedis;
  cluster: FakeCluster;
  gw: RunningGateway;
  stop(): Promise<void>;
}

/**
 * The http specs' common fixture: a Redis of their own, a fake three-replica cluster on it running
 * the real state machine, and a real gateway that knows n1 leads. `env` adds to the gateway's.
 */
export async function startFakeClusterGateway(cluster: string, env: Record<string, string>): Promise<FakeClusterGateway> {
  const redis = await startRedis({ appendfsync: 'no' });
  const fake = await startFakeCluster(redis.url, cluster, ['n1', 'n2', 'n3']);
  const gw = await startLedGateway(redis.url, cluster, env);
  return {
    redis,
    cluster: fake,
    gw,
    stop: async () => {
      await gw.close();
      await fake.stop();
      await redis.stop();
    },
  };
}

/** A gateway on the fake cluster `cluster` (bus at `busUrl`), started once it knows n1 leads. */
export async function startLedGateway(busUrl: string, cluster: string, env: Record<string, string>): Promise<RunningGateway> {
  const gw = await startGateway({ BUS_URL: busUrl, CLUSTER: cluster, NODES: 'n1,n2,n3', ...env }, { requestTimeoutMs: 2000, attemptTimeoutMs: 400 });
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
  return gw;
}
