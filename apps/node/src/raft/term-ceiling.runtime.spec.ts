import Redis from 'ioredis';
import { MAX_TERM, type Message, type Ready } from '@app/consensus/raft';
import { RedisStore } from '@app/storage';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { loadNodeConfig } from '../config/node-config';
import type { RuntimeIo } from '../replica/runtime';
import { fromStoredState, toPersistBatch } from './codec';
import { RaftRuntime } from './raft-runtime';

jest.setTimeout(20_000);

// One Raft runtime (n1 of three; its peers are absent) over a real storage Redis: what it logs,
// sends and reports when a term at or beyond the ceiling reaches it.
let redis: TestRedis;
let client: Redis;
let seq = 0;

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

interface Harness {
  runtime: RaftRuntime;
  store: RedisStore;
  errors: string[];
  sent: Message[];
}

/** A store of its own (fresh cluster name), holding `term` as its hard state when given. */
async function storeWith(term: number | null): Promise<RedisStore> {
  const store = new RedisStore({ redis: client, cluster: `ceiling${++seq}`, node: 'n1' });
  if (term !== null) {
    const rd = { hardState: { currentTerm: term, votedFor: null, commitIndex: 0 }, entries: [], snapshot: null } as unknown as Ready;
    await store.persist(toPersistBatch(rd, { currentTerm: 0, votedFor: null, commitIndex: 0 })!);
  }
  return store;
}

async function runtimeOn(store: RedisStore): Promise<Harness> {
  const cfg = loadNodeConfig({
    CLUSTER: 'ceiling',
    NODE_ID: 'n1',
    NODES: 'n1,n2,n3',
    PROTOCOL: 'raft',
    BUS_URL: redis.url,
    STORAGE_URL: redis.url,
    KEYS_DIR: '/unused', // the runtime has no bus here, so no bus keys are loaded
    TICK_MS: '5',
    LOG_LEVEL: 'silent',
  });
  const h = { store, errors: [] as string[], sent: [] as Message[] } as Harness;
  const io: RuntimeIo = {
    sendToPeers: (_frame, ms) => void h.sent.push(...(ms as Message[])),
    reply: () => undefined,
    publish: () => undefined,
    changed: () => undefined,
    log: () => undefined,
    error: (msg) => void h.errors.push(msg),
    fatal: (err) => {
      throw err;
    },
  };
  h.runtime = new RaftRuntime(cfg, store, io);
  await h.runtime.start();
  return h;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const storedTerm = async (store: RedisStore) => fromStoredState(await store.load()).hardState.currentTerm;
const vote = (term: number) => ({ type: 'RequestVote', from: 'n3', to: 'n1', term, preVote: false, lastLogIndex: 9, lastLogTerm: 1, transfer: true });

describe('Raft runtime at the term ceiling', () => {
  it.each([
    ['at MAX_TERM', MAX_TERM],
    ['at 2^53-1 (stored before the ceiling existed)', Number.MAX_SAFE_INTEGER],
  ])('restored %s: one error line with the term, status().fatal set, no election ever tried — on every restart', async (_name, term) => {
    const store = await storeWith(term);
    for (let start = 0; start < 2; start++) {
      const h = await runtimeOn(store);
      await sleep(600); // the election timeout (10-20 ticks of 5 ms) passes many times
      h.runtime.stop();
      expect(h.errors).toHaveLength(1);
      expect(h.errors[0]).toMatch(new RegExp(`^FATAL: raft term ${term} is at the ceiling \\(MAX_TERM ${MAX_TERM}\\)`));
      expect(h.runtime.status().fatal).toMatch(/can never start an election again/);
      expect(h.sent.filter((m) => m.type === 'RequestVote')).toEqual([]);
      expect(await storedTerm(store)).toBe(term);
    }
  });

  it('a healthy node campaigns and reports nothing (what the test above would see without the ceiling)', async () => {
    const h = await runtimeOn(await storeWith(null));
    await sleep(600);
    h.runtime.stop();
    expect(h.errors).toEqual([]);
    expect(h.runtime.status().fatal).toBeUndefined();
    expect(h.sent.some((m) => m.type === 'RequestVote')).toBe(true);
  });

  it('drops and counts a forged vote beyond the ceiling; the stored term does not move', async () => {
    const store = await storeWith(3);
    const h = await runtimeOn(store);
    // The replica counts these three against the link from n3 (the fault lab's per-link drops).
    expect(h.runtime.onPeerFrame('n3', { ms: [vote(Number.MAX_SAFE_INTEGER), vote(2 ** 53), { ...vote(4), term: 'x' }] })).toBe(3);
    await sleep(50);
    h.runtime.stop();
    expect(h.runtime.status().counters).toMatchObject({ dropped_term_beyond_ceiling: 2, malformedPeerFrames: 1 });
    expect(h.runtime.status().term).toBe(3);
    expect(await storedTerm(store)).toBe(3);
    expect(h.errors).toEqual([]);
  });

  it('drops and counts a message that speaks for another sender than the frame, or is addressed to another replica', async () => {
    const store = await storeWith(3);
    const h = await runtimeOn(store);
    // The bus authenticated the frame as n2's: a message in it claiming to be n3's is not taken.
    expect(h.runtime.onPeerFrame('n2', { ms: [vote(4)] })).toBe(1);
    expect(h.runtime.onPeerFrame('n3', { ms: [{ ...vote(5), to: 'n2' }] })).toBe(1);
    await sleep(50);
    h.runtime.stop();
    expect(h.runtime.status().counters).toMatchObject({ dropped_misaddressed: 2, malformedPeerFrames: 0 });
    expect(h.runtime.status().term).toBe(3);
    expect(await storedTerm(store)).toBe(3);
  });

  it('a vote at exactly MAX_TERM is taken (it is a valid term) and reported at once, loudly', async () => {
    const store = await storeWith(3);
    const h = await runtimeOn(store);
    h.runtime.onPeerFrame('n3', { ms: [vote(MAX_TERM)] });
    await sleep(300);
    h.runtime.stop();
    expect(h.errors).toEqual([expect.stringMatching(new RegExp(`^FATAL: raft term ${MAX_TERM} is at the ceiling`))]);
    expect(await storedTerm(store)).toBe(MAX_TERM);
  });
});
