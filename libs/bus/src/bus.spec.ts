import Redis from 'ioredis';
import { freePort, startRedis, TestRedis } from '../../../test/support/redis-server';
import { Bus } from './bus';
import { FrameAuth } from './auth';
import { channelFor, topicChannel } from './channels';
import { BusFleet, testAuth, waitFor } from './spec-helpers';

jest.setTimeout(20_000);

let redis: TestRedis;
let admin: Redis;
const fleet = new BusFleet(() => redis.url);

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await admin.quit();
  await redis.stop();
});
afterEach(() => fleet.stopAll());

/** Clients connected to the test Redis other than `admin`. */
async function otherClients(): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.trim().split('\n').length - 1;
}

describe('Bus over a real Redis', () => {
  it('delivers a direct frame to the addressee only', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['broadcast'] });
    const n3 = await fleet.start({ cluster, self: 'n3', topics: ['broadcast'] });

    n1.bus.send('n2', { type: 'AppendEntries', term: 1 });
    n1.bus.send('n3', 'fence'); // same publisher, same Redis: n3 sees this after anything sent before it
    await waitFor('n2 frame', () => n2.frames.length === 1);
    await waitFor('n3 fence', () => n3.frames.length >= 1);

    expect(n2.frames[0]).toEqual({ from: 'n1', topic: 'direct', body: { type: 'AppendEntries', term: 1 } });
    expect(n3.frames.map((f) => f.body)).toEqual(['fence']);
    expect(n1.frames).toEqual([]);
    expect(n1.bus.counters.sent).toBe(2);
    expect(n2.bus.counters.received).toBe(1);
  });

  it('delivers a topic frame to every listener of the topic, but not back to the sender by default', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1', topics: ['broadcast'] });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['broadcast'] });
    const n3 = await fleet.start({ cluster, self: 'n3', topics: ['broadcast'] });
    const gw = await fleet.start({ cluster, self: 'gw-1', topics: ['beacons'] });
    const loud = await fleet.start({ cluster, self: 'n4', topics: ['broadcast'], echo: true });

    n1.bus.broadcast('broadcast', { type: 'Prepare', view: 0, n: 7 });
    loud.bus.broadcast('broadcast', 'from n4');
    n1.bus.publish('beacons', 'fence');
    await waitFor('gw fence', () => gw.frames.length >= 1);
    await waitFor('broadcast on n2/n3', () => n2.frames.length === 2 && n3.frames.length === 2);
    await waitFor('n4 hears itself', () => loud.frames.length === 2);

    for (const r of [n2, n3]) {
      expect(r.frames).toEqual([
        { from: 'n1', topic: 'broadcast', body: { type: 'Prepare', view: 0, n: 7 } },
        { from: 'n4', topic: 'broadcast', body: 'from n4' },
      ]);
    }
    expect(n1.frames.map((f) => f.from)).toEqual(['n4']); // its own broadcast is not echoed
    expect(loud.frames.map((f) => f.from)).toEqual(['n1', 'n4']); // echo: true hears itself
    expect(gw.frames).toEqual([{ from: 'n1', topic: 'beacons', body: 'fence' }]);
    for (const r of [n1, n2, n3, gw, loud]) expect(r.bus.counters.rejected).toEqual({ unknownSender: 0, badMac: 0, replayed: 0, staleIncarnation: 0 });
  });

  it('publish() is sealed for the gateways and broadcast() for the replicas: each opens only for its audience', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1', topics: ['t'] });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['t'] });
    const gw = await fleet.start({ cluster, self: 'gw-1', topics: ['t'] });
    n1.bus.publish('t', 'for gateways');
    n1.bus.broadcast('t', 'for replicas');
    await waitFor(
      'both frames heard',
      () => n2.frames.length + n2.bus.counters.rejected.badMac === 2 && gw.frames.length + gw.bus.counters.rejected.badMac === 2,
    );
    expect(n2.frames.map((f) => f.body)).toEqual(['for replicas']);
    expect(gw.frames.map((f) => f.body)).toEqual(['for gateways']);
    expect(n2.bus.counters.rejected.badMac).toBe(1);
    expect(gw.bus.counters.rejected.badMac).toBe(1);
  });

  it('a direct send to self is delivered', async () => {
    const n1 = await fleet.start({ cluster: fleet.nextCluster(), self: 'n1' });
    n1.bus.send('n1', 'note to self');
    await waitFor('self frame', () => n1.frames.length === 1);
    expect(n1.frames[0]).toEqual({ from: 'n1', topic: 'direct', body: 'note to self' });
  });

  it('carries binary command data as bytes', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2' });
    const bytes = new Uint8Array(1024).map((_, i) => (i * 31) % 256);
    n1.bus.send('n2', { entries: [{ index: 1, term: 2, command: bytes }] });
    await waitFor('frame', () => n2.frames.length === 1);
    const body = n2.frames[0].body as { entries: Array<{ index: number; term: number; command: Uint8Array }> };
    expect(body.entries[0].command).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(body.entries[0].command), Buffer.from(bytes))).toBe(0);
  });

  it('counts garbage on the channel as malformed and keeps delivering good frames', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['broadcast'] });
    const good = n1.bus.auth.sealTo(channelFor(cluster, 'n2'), 'n2', 'ok'); // a real frame of n1's, never published as it is
    await admin.publish(channelFor(cluster, 'n2'), Buffer.from([0xff, 0x00, 0x13, 0x37]));
    await admin.publish(channelFor(cluster, 'n2'), '');
    await admin.publish(channelFor(cluster, 'n2'), Buffer.concat([Buffer.from([99]), good.subarray(1)])); // wrong version
    await admin.publish(topicChannel(cluster, 'broadcast'), Buffer.from([1, 0x81, 0xa1, 0x61, 0x01])); // {a:1}: wrong shape
    n1.bus.send('n2', { after: 'garbage' });
    await waitFor('good frame', () => n2.frames.length === 1);
    expect(n2.frames[0].body).toEqual({ after: 'garbage' });
    expect(n2.bus.counters.malformed).toBe(4);
    expect(n2.bus.counters.received).toBe(1);
    expect(n2.bus.counters.rejected).toEqual({ unknownSender: 0, badMac: 0, replayed: 0, staleIncarnation: 0 });
  });

  it('refuses forged, moved and replayed frames, counts each by reason, and keeps delivering good ones', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2' });
    await fleet.start({ cluster, self: 'n3' });
    const toN2 = channelFor(cluster, 'n2');
    // Captured off the wire: n1's frame to n2, published twice.
    const once = n1.bus.auth.sealTo(toN2, 'n2', 'once');
    await admin.publish(toN2, once);
    await admin.publish(toN2, once);
    // n1's frame to n3, moved to n2's channel.
    await admin.publish(toN2, n1.bus.auth.sealTo(channelFor(cluster, 'n3'), 'n3', 'for n3'));
    // n3's key, claiming to be n1.
    const impostor = new FrameAuth({ ...testAuth('n3'), cluster, self: 'n1' });
    await admin.publish(toN2, impostor.sealTo(toN2, 'n2', 'I am n1'));
    // The client key, claiming to be n1.
    const client = new FrameAuth({ ...testAuth('gw-1'), cluster, self: 'n1' });
    await admin.publish(toN2, client.sealTo(toN2, 'n2', 'I am n1 too'));
    n1.bus.send('n2', 'fence');
    await waitFor('fence', () => n2.frames.length === 2);
    expect(n2.frames.map((f) => [f.from, f.body])).toEqual([
      ['n1', 'once'],
      ['n1', 'fence'],
    ]);
    expect(n2.bus.counters.rejected).toEqual({ unknownSender: 0, badMac: 3, replayed: 1, staleIncarnation: 0 });
    expect(n2.bus.counters.malformed).toBe(0);
    expect(n2.bus.counters.received).toBe(2);
  });

  it('with verify: false (the test-only canary) it takes what a verifying bus refuses', async () => {
    const cluster = fleet.nextCluster();
    const canary = await fleet.start({ cluster, self: 'n2', auth: testAuth('n2', { verify: false }) });
    const checked = await fleet.start({ cluster, self: 'n3' });
    const forger = new FrameAuth({ ...testAuth('gw-1'), cluster, self: 'n1' });
    await admin.publish(channelFor(cluster, 'n2'), forger.sealTo(channelFor(cluster, 'n2'), 'n2', 'forged'));
    await admin.publish(channelFor(cluster, 'n3'), forger.sealTo(channelFor(cluster, 'n3'), 'n3', 'forged'));
    await waitFor('canary took it', () => canary.frames.length === 1);
    await waitFor('checked refused it', () => checked.bus.counters.rejected.badMac === 1);
    expect(canary.frames[0]).toEqual({ from: 'n1', topic: 'direct', body: 'forged' });
    expect(checked.frames).toEqual([]);
  });

  it('catches and counts a handler that throws; other handlers and later frames still run', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2' });
    let calls = 0;
    n2.bus.onFrame(() => {
      calls++;
      throw new Error('handler bug');
    });
    n1.bus.send('n2', 1);
    n1.bus.send('n2', 2);
    await waitFor('both frames', () => n2.frames.length === 2);
    await waitFor('throwing handler called twice', () => calls === 2);
    expect(n2.frames.map((f) => f.body)).toEqual([1, 2]);
    expect(n2.bus.counters.handlerErrors).toBe(2);
  });

  it('batch() corks frames until fn returns, then delivers them in order', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2', topics: ['broadcast'] });
    n1.bus.send('n2', 'before');
    let sentInside = -1;
    n1.bus.batch(() => {
      for (let i = 0; i < 100; i++) n1.bus.send('n2', i);
      n1.bus.batch(() => n1.bus.broadcast('broadcast', 'nested'));
      n1.bus.send('n2', 'last of batch');
      sentInside = n1.bus.counters.sent;
    });
    n1.bus.send('n2', 'after');
    await waitFor('all frames', () => n2.frames.length === 104);
    expect(sentInside).toBe(1); // nothing left the bus while corked
    expect(n2.frames.map((f) => f.body)).toEqual(['before', ...Array.from({ length: 100 }, (_, i) => i), 'nested', 'last of batch', 'after']);
    expect(n2.frames[101].topic).toBe('broadcast');
    expect(n1.bus.counters.sent).toBe(104);
  });

  it('batch() still flushes what was sent before fn threw, and rethrows', async () => {
    const cluster = fleet.nextCluster();
    const n1 = await fleet.start({ cluster, self: 'n1' });
    const n2 = await fleet.start({ cluster, self: 'n2' });
    expect(() =>
      n1.bus.batch(() => {
        n1.bus.send('n2', 'a');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    n1.bus.send('n2', 'b'); // and the bus is no longer corked
    await waitFor('frames', () => n2.frames.length === 2);
    expect(n2.frames.map((f) => f.body)).toEqual(['a', 'b']);
  });

  it('stop() closes both connections, and is idempotent', async () => {
    const before = await otherClients();
    const n1 = await fleet.start({ cluster: fleet.nextCluster(), self: 'n1', topics: ['broadcast'] });
    expect(await otherClients()).toBe(before + 2);
    await n1.bus.stop();
    await n1.bus.stop();
    // Redis may list a client for a moment after its socket closed; give it a few polls.
    let after = await otherClients();
    for (let i = 0; i < 50 && after !== before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await otherClients();
    }
    expect(after).toBe(before);
    // A stopped bus drops instead of throwing.
    n1.bus.send('n1', 'late');
    n1.bus.batch(() => n1.bus.publish('broadcast', 'late'));
    expect(n1.bus.counters.dropped).toBe(2);
    expect(n1.bus.counters.sent).toBe(0);
  });

  it('start() rejects when Redis is unreachable and leaves nothing running', async () => {
    const port = await freePort();
    const bus = new Bus({ url: `redis://127.0.0.1:${port}`, cluster: 'x', self: 'n1', auth: testAuth('n1') });
    await expect(bus.start()).rejects.toThrow(/ECONNREFUSED/);
    bus.send('n2', 'nowhere');
    expect(bus.counters.dropped).toBe(1);
    await bus.stop(); // harmless after a failed start
  });

  it('rejects a topic named like the direct channel', () => {
    expect(() => new Bus({ url: redis.url, cluster: 'x', self: 'n1', topics: ['direct'], auth: testAuth('n1') })).toThrow(/topic/);
  });
});
