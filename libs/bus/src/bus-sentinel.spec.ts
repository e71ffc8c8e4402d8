import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import { sentinelUnavailable, startSentinel, TestSentinel } from '../../../test/support/redis-sentinel';
import { BusFleet, waitFor } from './spec-helpers';

// The bus on an existing distributed Redis: every home is one Sentinel-managed master. The master
// dies (or freezes), Sentinel promotes the replica, and every connection finds the new master
// through the sentinels: the bus's publishers and subscribers, and a replica-style storage client.
const unavailable = sentinelUnavailable();
if (unavailable) console.warn(`bus-sentinel.spec skipped: ${unavailable}`);
const describeSentinel = unavailable ? describe.skip : describe;

jest.setTimeout(40_000);

/** Frames must flow again this soon after the master fails (detection 1 s + election + promotion + reconnect). */
const RECOVERY_BOUND_MS = 15_000;

let sentinel: TestSentinel | undefined;
const fleet = new BusFleet(() => sentinel!.url);

// A fresh set-up per test: after a failover the old master is gone and the new one has no replica.
beforeEach(async () => {
  if (!unavailable) sentinel = await startSentinel();
});
afterEach(async () => {
  await fleet.stopAll();
  await sentinel?.stop();
  sentinel = undefined;
});
// ioredis closes its failover detector's sentinel connections with a fixed 2 s disconnect timer
// (not configurable there): outwait it, so that nothing of this file is pending when it ends.
afterAll(() => (unavailable ? undefined : new Promise((r) => setTimeout(r, 2100))));

describeSentinel('Bus on Redis Sentinel', () => {
  it.each([
    ['killed (SIGKILL: its sockets close at once)', 'kill'],
    ['frozen (SIGSTOP: its sockets stay open, nothing answers, as in a partition)', 'freeze'],
  ] as const)('keeps frames and stream writes flowing when the master is %s', async (_, how) => {
    const set = sentinel!;
    const url = set.url;
    const homes = { n1: url, n2: url };
    const common = { homes, cluster: fleet.nextCluster(), redisOptions: (u: string) => redisOptions(u).options };
    const n1 = await fleet.start({ ...common, self: 'n1', topics: ['broadcast'] });
    const n2 = await fleet.start({ ...common, self: 'n2', topics: ['broadcast'] });
    const gw = await fleet.start({ ...common, self: 'gw-1', topics: ['beacons'] });
    // A replica's storage connection, with the options the replica uses (apps/node replica.service).
    const storage = new Redis({
      ...redisOptions(url).options,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (n) => Math.min(50 * n, 500),
    });
    storage.on('error', () => undefined); // refused while the master is gone: the loop below retries
    if (storage.status !== 'ready') await new Promise((r) => storage.once('ready', r));
    const stream = `${common.cluster}:log`;
    try {
      // Before: every path works, and an entry is on the master and (WAIT) on its replica.
      n1.bus.send('n2', 'before');
      n2.bus.send('gw-1', 'before');
      n1.bus.broadcast('broadcast', 'before');
      await waitFor('frames before the failover', () => n2.frames.length === 2 && gw.frames.length === 1);
      const firstId = await storage.xadd(stream, '*', 'entry', 'before');
      expect(await storage.wait(1, 2000)).toBe(1);

      const oldMaster = how === 'kill' ? await set.killMaster() : await set.freezeMaster();
      const failedAt = Date.now();
      const since = (): number => Date.now() - failedAt;

      // Probe every 100 ms until each path has carried a frame sent after the failure. Frames sent
      // while no master answers are lost (pub/sub is at-most-once), which the protocols expect.
      const after = (frames: typeof n2.frames, topic: string, from: string) =>
        frames.some((f) => f.topic === topic && f.from === from && typeof f.body === 'object' && f.body !== null && 'probe' in f.body);
      const times: Record<string, number> = {};
      let secondId: string | null = null;
      let xadd: Promise<unknown> | null = null; // one at a time; on a frozen master it may never answer
      let probe = 0;
      let promotedAt: number | undefined;
      while (Object.keys(times).length < 5 && since() < RECOVERY_BOUND_MS) {
        probe++;
        n1.bus.send('n2', { probe });
        n2.bus.send('gw-1', { probe });
        n1.bus.broadcast('broadcast', { probe });
        if (secondId === null && xadd === null) {
          xadd = storage.xadd(stream, '*', 'entry', 'after').then(
            (id) => (secondId = id),
            () => (xadd = null),
          );
        }
        if (promotedAt === undefined && (await set.masterPort().catch(() => oldMaster)) !== oldMaster) promotedAt = since();
        await new Promise((r) => setTimeout(r, 100));
        const record = (key: string, ok: boolean): void => {
          if (ok && times[key] === undefined) times[key] = since();
        };
        record('n1->n2 direct', after(n2.frames, 'direct', 'n1'));
        record('n2->gateway direct', after(gw.frames, 'direct', 'n2'));
        record('n1 broadcast->n2', after(n2.frames, 'broadcast', 'n1'));
        record('storage XADD', secondId !== null);
        record('sentinel switched master', promotedAt !== undefined);
      }
      console.log(
        `Sentinel failover (master ${how === 'kill' ? 'SIGKILLed' : 'SIGSTOPped'}, down-after 1000 ms): ${Object.entries(times)
          .map(([k, v]) => `${k} ${v} ms`)
          .join(', ')}; ${probe} probes`,
      );
      expect(Object.keys(times).sort()).toEqual(['n1 broadcast->n2', 'n1->n2 direct', 'n2->gateway direct', 'sentinel switched master', 'storage XADD']);

      // The bus follows the new master: it is the former replica, and every endpoint is connected to it.
      const newMaster = await set.masterPort();
      expect(newMaster).toBe(set.dataPorts.find((p) => p !== oldMaster));
      expect(n1.bus.reachable('n2') && n2.bus.reachable('gw-1') && gw.bus.listening('n2') && n2.bus.listening('n1')).toBe(true);
      for (const e of [n1, n2, gw]) expect(e.bus.counters.reconnects).toBeGreaterThan(0);
      // The replicated entry survived the failover, and the new one follows it on the same stream.
      const entries = await storage.xrange(stream, '-', '+');
      expect(entries.map(([id, f]) => [id, f[1]])).toEqual([
        [firstId, 'before'],
        [secondId, 'after'],
      ]);
    } finally {
      storage.disconnect();
    }
  });
});
