import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { Bus, CLIENT_PRINCIPAL, FrameAuth, openEnvelope, sealEnvelope, type Opened } from '@app/bus';
import { redisOptions } from '@app/config';
import { createLogger } from '@app/logging';
import { BEACON_TOPIC, controlPattern, loadBusKeys, type ControlStatus } from '@app/wire';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { TEST_NODES, testBusAuth, testKeysDir } from '../../../gateway/src/testing/test-keys';
import { NodeAppModule } from '../app.module';
import { loadNodeConfig } from '../config/node-config';
import { ReplicaService } from '../replica/replica.service';
import { createControlServer } from './control-server';

jest.setTimeout(30_000);

// One real replica (a one-voter Raft cluster) with its real control server, and a gateway's side of
// the control plane done by hand: a bus that hears the replica's beacons, and a Nest Redis client.
const CLUSTER = 'nodecontrol';
const PATTERN = controlPattern(CLUSTER, 'n1');
let redis: TestRedis;
let app: INestApplication;
let replica: ReplicaService;
let gateway: Bus;
let client: ClientProxy;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  const cfg = loadNodeConfig({
    CLUSTER,
    NODE_ID: 'n1',
    NODES: 'n1',
    PROTOCOL: 'raft',
    BUS_URL: redis.url,
    STORAGE_URL: redis.url,
    KEYS_DIR: testKeysDir(),
    TICK_MS: '10',
    BEACON_MS: '100',
    LOG_LEVEL: 'silent',
  });
  app = await NestFactory.create(NodeAppModule.forRoot(cfg, createLogger({ service: 'node', level: 'silent' })), { logger: false });
  replica = app.get(ReplicaService);
  app.connectMicroservice({ strategy: createControlServer(cfg, replica) });
  await replica.boot();
  await app.startAllMicroservices();
  await app.init();
  gateway = new Bus({ url: redis.url, cluster: CLUSTER, self: 'gw-test', topics: [BEACON_TOPIC], auth: testBusAuth('gw-test', ['n1']) });
  await gateway.start();
  client = ClientProxyFactory.create({ transport: Transport.REDIS, options: redisOptions(redis.url).options });
  const deadline = Date.now() + 10_000;
  while (gateway.auth.incarnationOf('n1') === undefined) {
    if (Date.now() > deadline) throw new Error('no beacon from n1');
    await new Promise((r) => setTimeout(r, 20));
  }
});

afterAll(async () => {
  await client?.close();
  await gateway?.stop();
  await app?.close();
  await redis?.stop();
});

const ask = (msg: unknown, pattern = PATTERN): Promise<unknown> => firstValueFrom(client.send<unknown>(pattern, msg).pipe(timeout(5000)));

/** The replica's sealed answer, opened as the gateway does; fails on anything else. */
function opened(answer: unknown): Opened & { body: { corr: string; status?: ControlStatus; error?: string } } {
  const o = openEnvelope(gateway.auth, `${PATTERN}.reply`, answer);
  if (typeof o === 'string') throw new Error(`the answer did not open: ${o} (${JSON.stringify(answer)})`);
  return o as Opened & { body: { corr: string; status?: ControlStatus; error?: string } };
}

describe("the replica's control server", () => {
  it('carries out a sealed command and answers it sealed for the gateway, with the corr', async () => {
    const isolate = opened(await ask(sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'c-1', req: { action: 'isolate' } })));
    expect(isolate.from).toBe('n1');
    expect(isolate.body).toEqual({ corr: 'c-1', status: expect.objectContaining({ id: 'n1', isolated: true, alive: true }) });
    expect(replica.controlStatus().isolated).toBe(true);
    const heal = opened(await ask(sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'c-2', req: { action: 'heal' } })));
    expect(heal.body).toMatchObject({ corr: 'c-2', status: { isolated: false } });
    // The answer is sealed for this gateway's incarnation, on the reply pattern only.
    const again = await ask(sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'c-3', req: { action: 'status' } }));
    expect(openEnvelope(gateway.auth, PATTERN, again)).toBe('badMac');
  });

  it('answers a failed action as a sealed error', async () => {
    const byz = opened(await ask(sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'c-4', req: { action: 'byzantine', behavior: 'equivocate' } })));
    expect(byz.body).toEqual({ corr: 'c-4', error: expect.stringContaining('only in PBFT') });
  });

  it('refuses, counts and does not carry out a command that is replayed, stale, forged or not sealed', async () => {
    const refusedBefore = replica.counters.controlRefused;
    const inc = gateway.auth.incarnationOf('n1')!;
    const kill = sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'k-1', req: { action: 'status' } });
    opened(await ask(kill));
    // The same envelope again (captured off the Redis): a replay.
    expect(await ask(kill)).toEqual({ refused: 'replayed' });
    const tool = new FrameAuth({ ...testBusAuth('gw-tool', ['n1']), cluster: CLUSTER, self: 'gw-tool' });
    const killWith = (auth: FrameAuth, toInc: number, corr: string, pattern = PATTERN) => ({
      frame: auth.seal(pattern, { corr, req: { action: 'kill' } }, [CLIENT_PRINCIPAL, 'n1'], toInc).toString('base64'),
    });
    // For no incarnation, or an earlier one of the replica.
    expect(await ask(killWith(tool, 0, 'k-2'))).toEqual({ refused: 'staleIncarnation' });
    expect(await ask(killWith(tool, inc - 1, 'k-3'))).toEqual({ refused: 'staleIncarnation' });
    // Another replica's key (n2 is no replica of this cluster, but its key is no gateway's either).
    const n2Key = new FrameAuth({
      cluster: CLUSTER,
      self: 'gw-evil',
      replicas: ['n1'],
      keys: loadBusKeys(testKeysDir(), 'n2', [...TEST_NODES, CLIENT_PRINCIPAL]),
    });
    expect(await ask(killWith(n2Key, inc, 'k-4'))).toEqual({ refused: 'badMac' });
    // Sealed for another channel (another replica's pattern) and moved here.
    expect(await ask(killWith(tool, inc, 'k-5', controlPattern(CLUSTER, 'n2')))).toEqual({ refused: 'badMac' });
    // The unauthenticated protocol of before, junk, and a sealed body without a corr.
    expect(await ask({ action: 'kill' })).toEqual({ refused: 'malformed' });
    expect(await ask({ frame: 'bm90IGEgZnJhbWU=' })).toEqual({ refused: 'malformed' });
    expect(await ask({ frame: tool.seal(PATTERN, { req: { action: 'kill' } }, ['n1'], inc).toString('base64') })).toEqual({ refused: 'malformed' });
    expect(replica.counters.controlRefused).toBe(refusedBefore + 8);
    expect(replica.controlStatus().alive).toBe(true); // no kill went through
    // ...and a good command still does.
    expect(openEnvelope(tool, `${PATTERN}.reply`, await ask(killWith(tool, inc, 'k-6')))).toMatchObject({
      from: 'n1',
      body: { corr: 'k-6', status: { alive: false } },
    });
    expect(replica.controlStatus().alive).toBe(false);
    await ask(sealEnvelope(gateway.auth, PATTERN, 'n1', { corr: 'k-7', req: { action: 'revive' } }));
    expect(replica.controlStatus().alive).toBe(true);
  });
});
