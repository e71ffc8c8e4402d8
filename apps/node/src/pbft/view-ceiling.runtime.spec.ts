import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ed25519Crypto, MAX_VIEW, signingPayload, signRequest, type PbftMessage, type PbftReady, type ViewChange } from '@app/consensus/pbft';
import { RedisStore } from '@app/storage';
import { ensureKeys, loadKeys, PBFT_CLIENT_ID } from '@app/wire';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { loadNodeConfig } from '../config/node-config';
import type { RuntimeIo } from '../replica/runtime';
import { PbftCodec } from './codec';
import { PbftRuntime } from './pbft-runtime';

jest.setTimeout(20_000);

// One PBFT runtime (n1 of four; its peers are absent) over a real storage Redis and real Ed25519
// keys: what it logs, sends and counts when a view at or beyond the ceiling reaches it.
const NODES = ['n1', 'n2', 'n3', 'n4'];
let redis: TestRedis;
let client: Redis;
let keysDir: string;
let seq = 0;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  client = new Redis(redis.url);
  keysDir = mkdtempSync(join(tmpdir(), 'synod-ceiling-keys-'));
  ensureKeys(keysDir, [...NODES, PBFT_CLIENT_ID]);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

const cryptoOf = (id: string) => {
  const k = loadKeys(keysDir, id, [...NODES, PBFT_CLIENT_ID]);
  return ed25519Crypto(k.privateKeyPem, k.publicKeys);
};

async function storeAtView(view: number): Promise<RedisStore> {
  const store = new RedisStore({ redis: client, cluster: `pceiling${++seq}`, node: 'n1' });
  const rd = { hardState: { view, active: true, lowWaterMark: { seq: 0, proof: [] } }, newView: null, entries: [], executed: [] } as unknown as PbftReady;
  await store.persist(new PbftCodec().batch(rd)!);
  return store;
}

async function runtimeOn(store: RedisStore) {
  const cfg = loadNodeConfig({
    CLUSTER: 'pceiling',
    NODE_ID: 'n1',
    NODES: NODES.join(','),
    PROTOCOL: 'pbft',
    BUS_URL: redis.url,
    STORAGE_URL: redis.url,
    KEYS_DIR: keysDir,
    TICK_MS: '5',
    ELECTION_TICKS: '10',
    LOG_LEVEL: 'silent',
  });
  const errors: string[] = [];
  const sent: PbftMessage[] = [];
  const io: RuntimeIo = {
    sendToPeers: (_frame, ms) => void sent.push(...(ms as PbftMessage[])),
    reply: () => undefined,
    publish: () => undefined,
    changed: () => undefined,
    log: () => undefined,
    error: (msg) => void errors.push(msg),
    fatal: (err) => {
      throw err;
    },
  };
  const runtime = new PbftRuntime(cfg, store, io);
  await runtime.start();
  return { runtime, errors, sent };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const request = (id: string) => signRequest(cryptoOf(PBFT_CLIENT_ID), { client: PBFT_CLIENT_ID, id, ts: Date.now(), op: new Uint8Array([1]) });

describe('PBFT runtime at the view ceiling', () => {
  it.each([
    ['at MAX_VIEW', MAX_VIEW],
    ['at 2^53-1 (stored before the ceiling existed)', Number.MAX_SAFE_INTEGER],
  ])('restored %s: one error line with the view, status().fatal set, no view change tried on request timeouts', async (_name, view) => {
    const { runtime, errors, sent } = await runtimeOn(await storeAtView(view));
    runtime.onClientRequest('gw', { t: 'pbft-request', request: request('r1') }); // the primary (absent) never orders it
    await sleep(600); // ten request timeouts and more
    runtime.stop();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^FATAL: pbft view ${view} is at the ceiling \\(MAX_VIEW ${MAX_VIEW}\\)`));
    expect(runtime.status()).toMatchObject({ term: view, fatal: expect.stringMatching(/can never change view again/) });
    expect(sent.filter((m) => m.type === 'ViewChange' && m.view > view)).toEqual([]);
  });

  it('a healthy replica starts a view change on the same timeout and reports nothing (what the test above rules out)', async () => {
    const { runtime, errors, sent } = await runtimeOn(await storeAtView(MAX_VIEW - 5));
    runtime.onClientRequest('gw', { t: 'pbft-request', request: request('r2') });
    await sleep(600);
    runtime.stop();
    expect(errors).toEqual([]);
    expect(runtime.status().fatal).toBeUndefined();
    expect(sent.some((m) => m.type === 'ViewChange' && m.view > MAX_VIEW - 5)).toBe(true);
  });

  it('drops and counts a signed VIEW-CHANGE beyond the ceiling', async () => {
    const { runtime, errors } = await runtimeOn(await storeAtView(7));
    const body: Omit<ViewChange, 'sig'> = { type: 'ViewChange', from: 'n2', to: null, view: MAX_VIEW + 1, stableSeq: 0, checkpointProof: [], prepared: [] };
    const vc = { ...body, sig: cryptoOf('n2').sign(signingPayload(body as ViewChange)) };
    // Dropped by the core: the runtime reports both against the link they came on (the fault lab's per-link drops).
    expect(runtime.onPeerFrame('n2', { ms: [vc, { ...vc, from: 'n3' }] })).toBe(2);
    await sleep(30);
    runtime.stop();
    expect(runtime.status()).toMatchObject({ term: 7, counters: { dropped_view_beyond_ceiling: 2 } });
    expect(errors).toEqual([]);
  });
});
