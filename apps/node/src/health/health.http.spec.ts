import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger } from '@app/logging';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { NodeAppModule } from '../app.module';
import { loadNodeConfig } from '../config/node-config';
import { ReplicaService } from '../replica/replica.service';
import { testKeysDir } from '../../../gateway/src/testing/test-keys';

jest.setTimeout(30_000);

// One real replica in this process: a one-voter Raft cluster (it elects itself), with its bus and
// its storage on two real Redis servers, so each can be lost on its own.
let bus: TestRedis;
let storage: TestRedis;
let app: INestApplication;
let replica: ReplicaService;
let base: string;

beforeAll(async () => {
  [bus, storage] = await Promise.all([startRedis({ appendfsync: 'no' }), startRedis({ appendfsync: 'no' })]);
  const cfg = loadNodeConfig({
    CLUSTER: 'nodehealth',
    NODE_ID: 'n1',
    NODES: 'n1',
    PROTOCOL: 'raft',
    BUS_URL: bus.url,
    STORAGE_URL: storage.url,
    KEYS_DIR: testKeysDir(),
    TICK_MS: '10',
    LOG_LEVEL: 'silent',
  });
  app = await NestFactory.create(NodeAppModule.forRoot(cfg, createLogger({ service: 'node', level: 'silent' })), { logger: false });
  replica = app.get(ReplicaService);
  await replica.boot();
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

afterAll(async () => {
  await app?.close();
  await Promise.all([bus?.stop(), storage?.stop()]);
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.json() };
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readyNow = async (): Promise<boolean> => (await get('/health/ready')).status === 200;

describe('replica /health', () => {
  it('live is 200; ready is 200 once a leader is known and the replica has applied what is committed', async () => {
    expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'live', id: 'n1', pid: process.pid } });
    await until('ready', readyNow);
    const r = await get('/health/ready');
    expect(r.body).toMatchObject({
      status: 'ready',
      checks: { alive: true, storage: true, bus: true, leader: true, caughtUp: true },
      id: 'n1',
      role: 'leader',
      leader: 'n1',
    });
    expect(r.body.appliedIndex).toBeGreaterThanOrEqual(r.body.commitIndex);
    expect(await get('/health')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('killed: 503 (not alive, no leader, not caught up) while live stays 200; revived: ready again', async () => {
    await replica.control({ action: 'kill' });
    const r = await get('/health/ready');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'unready', checks: { alive: false, storage: true, bus: true, leader: false, caughtUp: false }, role: 'dead' });
    expect((await get('/health')).status).toBe(503);
    expect((await get('/health/live')).status).toBe(200);
    await replica.control({ action: 'revive' });
    await until('ready after revive', readyNow);
  });

  it('its storage Redis gone: 503 says storage; back: ready again', async () => {
    await storage.kill();
    try {
      const started = Date.now();
      const r = await get('/health/ready');
      expect(Date.now() - started).toBeLessThan(2000); // the ping does not hang
      expect(r.status).toBe(503);
      expect(r.body.checks).toMatchObject({ alive: true, storage: false, bus: true });
      expect((await get('/health/live')).status).toBe(200);
    } finally {
      await storage.restart();
    }
    await until('ready after the storage is back', readyNow);
  });

  it('its bus Redis gone: 503 says bus; back: ready again', async () => {
    await bus.kill();
    try {
      await until('bus down seen', async () => (await get('/health/ready')).body.checks.bus === false, 3000);
      expect((await get('/health/ready')).status).toBe(503);
    } finally {
      await bus.restart();
    }
    await until('ready after the bus is back', readyNow);
  });
});
