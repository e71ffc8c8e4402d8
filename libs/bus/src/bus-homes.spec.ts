import Redis from 'ioredis';
import { startRedis, TestRedis } from '../../../test/support/redis-server';
import { Bus } from './bus';
import { channelFor } from './channels';
import { BusFleet, testAuth, waitFor } from './spec-helpers';

jest.setTimeout(30_000);

// Three replicas, each with its inbox on a Redis of its own, and a gateway without a home.
let servers: TestRedis[];
let homes: Record<string, string>;
const fleet = new BusFleet(() => servers[0].url);

beforeAll(async () => {
  servers = await Promise.all([1, 2, 3].map(() => startRedis({ appendfsync: 'no' })));
  homes = { n1: servers[0].url, n2: servers[1].url, n3: servers[2].url };
});
afterAll(async () => {
  await fleet.stopAll();
  await Promise.all(servers.map((s) => s.stop()));
});
afterEach(() => fleet.stopAll());

async function subscribers(server: TestRedis, channel: string): Promise<number> {
  const r = new Redis(server.url);
  try {
    const [, n] = (await r.pubsub('NUMSUB', channel)) as [string, number];
    return Number(n);
  } finally {
    r.disconnect();
  }
}

async function cluster(name: string) {
  const opts = (self: string, topics: string[]) => ({ homes, cluster: name, self, topics });
  const n1 = await fleet.start(opts('n1', ['broadcast']));
  const n2 = await fleet.start(opts('n2', ['broadcast']));
  const n3 = await fleet.start(opts('n3', ['broadcast']));
  const gw = await fleet.start(opts('gw-1', ['beacons']));
  return { n1, n2, n3, gw };
}

describe('Bus with one home Redis per replica', () => {
  it('a replica listens on its own home only; a gateway listens on every home', async () => {
    const name = fleet.nextCluster();
    await cluster(name);
    expect(await subscribers(servers[1], channelFor(name, 'n2'))).toBe(1);
    expect(await subscribers(servers[0], channelFor(name, 'n2'))).toBe(0);
    for (const s of servers) expect(await subscribers(s, channelFor(name, 'gw-1'))).toBe(1);
  });

  it('routes direct frames through the addressee home, broadcasts once per peer, beacons once', async () => {
    const { n1, n2, n3, gw } = await cluster(fleet.nextCluster());
    n1.bus.send('n2', 'to n2');
    gw.bus.send('n3', 'to n3');
    n2.bus.send('gw-1', 'reply');
    n1.bus.batch(() => n1.bus.broadcast('broadcast', 'prepare'));
    n3.bus.publish('beacons', 'beacon');
    await waitFor('all frames', () => n2.frames.length === 2 && n3.frames.length === 2 && gw.frames.length === 2);
    await new Promise((r) => setTimeout(r, 100)); // and no duplicates after that
    expect(n2.frames.map((f) => f.body).sort()).toEqual(['prepare', 'to n2']);
    expect(n3.frames.map((f) => f.body).sort()).toEqual(['prepare', 'to n3']);
    expect(gw.frames.map((f) => [f.from, f.body]).sort()).toEqual([
      ['n2', 'reply'],
      ['n3', 'beacon'],
    ]);
    expect(n1.frames).toEqual([]);
  });

  it('losing one Redis costs exactly its replica: the others and the gateway keep talking', async () => {
    const { n1, n2, n3, gw } = await cluster(fleet.nextCluster());
    await servers[0].kill();
    try {
      await waitFor('n1 home seen down', () => !gw.bus.reachable('n1'));
      expect(gw.bus.reachable('n2')).toBe(true);
      expect(gw.bus.listening()).toBe(true);
      expect(gw.bus.listening('n1')).toBe(false);
      expect(gw.bus.listening('n2')).toBe(true);
      n2.bus.send('n3', 'still here');
      n3.bus.broadcast('broadcast', 'everyone');
      gw.bus.send('n2', 'from gw');
      n3.bus.send('gw-1', 'to gw');
      n2.bus.send('n1', 'lost'); // n1's inbox is gone: dropped and counted, nothing thrown
      await waitFor('frames', () => n3.frames.length === 1 && n2.frames.length === 2 && gw.frames.length === 1);
      expect(n2.bus.counters.dropped).toBeGreaterThanOrEqual(1);
      expect(n1.bus.listening()).toBe(false);
    } finally {
      await servers[0].restart();
    }
    // ...and it comes back: resubscribed, routed again.
    await waitFor('n1 back', () => n1.bus.listening() && n2.bus.reachable('n1'), 10_000);
    n2.bus.send('n1', 'welcome back');
    await waitFor('n1 frame', () => n1.frames.some((f) => f.body === 'welcome back'));
  });

  it('a replica starts while a peer home is down, and reaches it once it is back', async () => {
    const name = fleet.nextCluster();
    await servers[2].kill();
    try {
      const n1 = await fleet.start({ homes, cluster: name, self: 'n1' });
      const gw = await fleet.start({ homes, cluster: name, self: 'gw-1' }); // hears n1 and n2 meanwhile
      expect(n1.bus.reachable('n3')).toBe(false);
      expect(gw.bus.listening('n3')).toBe(false);
      await servers[2].restart();
      const n3 = await fleet.start({ homes, cluster: name, self: 'n3' });
      await waitFor('routes to n3', () => n1.bus.reachable('n3') && gw.bus.listening('n3'), 10_000);
      n1.bus.send('n3', 'hello');
      n3.bus.send('gw-1', 'hi gateway');
      await waitFor('frames', () => n3.frames.length === 1 && gw.frames.length === 1);
    } finally {
      if (servers[2].process.exitCode !== null || servers[2].process.signalCode !== null) await servers[2].restart();
    }
  });

  it('a replica whose own home is unreachable does not start', async () => {
    await servers[1].kill();
    try {
      const bus = new Bus({ homes, cluster: 'x', self: 'n2', auth: testAuth('n2') });
      await expect(bus.start()).rejects.toThrow();
      expect(bus.listening()).toBe(false);
    } finally {
      await servers[1].restart();
    }
  });
});
