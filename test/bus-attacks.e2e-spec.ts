import { channelFor, topicChannel } from '@app/bus';
import { encodeRequest } from '@app/consensus/kv';
import { MAX_TERM } from '@app/consensus/raft';
import { controlPattern } from '@app/wire';
import { encodeFrame, packBody } from '../libs/bus/src/frame';
import { BusAttacker, flipBodyByte, rejectedCount } from './support/bus-attacker';
import { TestCluster, waitFor } from './support/cluster';

/**
 * An attacker on the bus (every Redis reachable, no key) plays the attacks of issue 9 on a real
 * launcher cluster, Raft and PBFT; after each, `problems()` checks what the proofs promise: a leader,
 * a fresh write, every acknowledged write, nobody isolated, one state digest on every replica.
 * The canaries run the same attacks on clusters started with BUS_AUTH=off-test-only (frames
 * accepted unchecked) and show the checks then report the damage.
 */

type Acked = Map<string, string>;

async function write(c: TestCluster, acked: Acked, key: string, value: string): Promise<void> {
  const r = await c.putUntilOk(key, value, 20_000);
  expect(r.status).toBe(200);
  acked.set(key, value);
}

/** What is wrong with the cluster now ([] when nothing), waiting up to `ms` for it to settle. */
async function problems(c: TestCluster, acked: Acked, ms = 15_000): Promise<string[]> {
  const found: string[] = [];
  const settled = await waitFor(
    async () => {
      const s = await c.clusterState();
      const alive = s.nodes.filter((n: any) => n.alive);
      const same = new Set(alive.map((n: any) => `${n.appliedIndex}/${n.digest}`));
      return s.leader && alive.length === s.nodes.length && same.size === 1 && alive[0].digest ? s : null;
    },
    ms,
    'one leader and one state digest on every replica',
  ).catch(() => null);
  const s = await c.clusterState();
  if (!settled) {
    if (!s.leader) found.push('no leader');
    found.push(`replicas differ: ${s.nodes.map((n: any) => `${n.id}@${n.appliedIndex}/${n.digest ?? '-'}${n.alive ? '' : ' (dead)'}`).join(', ')}`);
  }
  for (const n of s.nodes) if (n.isolated) found.push(`${n.id} is isolated`);
  const fresh = await c.put(`fresh-${Date.now()}`, 'x');
  if (fresh.status !== 200) found.push(`a fresh write answered ${fresh.status}`);
  for (const [k, v] of acked) {
    const r = await c.get(k);
    if (r.status !== 200 || r.body.value !== v) found.push(`acknowledged ${k}=${v} reads back as ${r.status} ${JSON.stringify(r.body?.value)}`);
  }
  return found;
}

async function followerOf(c: TestCluster): Promise<{ leader: string; follower: string; state: any }> {
  const leader = await c.waitForLeader();
  const state = await c.clusterState();
  return { leader, follower: state.nodes.find((n: any) => n.id !== leader).id, state };
}

/**
 * A forged AppendEntries "from the leader" with conflicting entries from commitIndex+1, committed at
 * once. Several entries: the beacons the indexes come from are up to 200 ms old, and a forged entry
 * at an index the follower already holds in the same term is skipped (a CI run saw one missed).
 */
async function forgeAppendEntries(c: TestCluster, attacker: BusAttacker, key = 'victim'): Promise<void> {
  const SPAN = 4;
  await c.waitForConvergence();
  const { leader, follower, state } = await followerOf(c);
  const lead = state.nodes.find((n: any) => n.id === leader);
  const at = lead.appliedIndex;
  const entries = Array.from({ length: SPAN }, (_, i) => ({
    index: at + 1 + i,
    term: lead.term,
    type: 'normal',
    data: encodeRequest({ id: `forged-${key}-${i}`, ts: Date.now(), cmd: { op: 'put', key, value: 'forged' } }),
  }));
  const ae = {
    type: 'AppendEntries',
    from: leader,
    to: follower,
    term: lead.term,
    prevLogIndex: at,
    prevLogTerm: lead.term,
    entries,
    leaderCommit: at + SPAN,
    readCtx: null,
  };
  await attacker.forge(leader, follower, { t: 'raft', ms: [ae] });
}

/** A forged RequestVote "from" a member with the largest terms, as a leadership transfer. */
async function forgeHugeVote(c: TestCluster, attacker: BusAttacker): Promise<void> {
  const { follower } = await followerOf(c);
  for (const term of [MAX_TERM, Number.MAX_SAFE_INTEGER]) {
    for (const n of c.info.nodes) {
      if (n.id === follower) continue;
      const vote = { type: 'RequestVote', from: follower, to: n.id, term, preVote: false, lastLogIndex: 1e12, lastLogTerm: term, transfer: true };
      await attacker.forge(follower, n.id, { t: 'raft', ms: [vote] });
    }
  }
}

/** Control commands published on the bus: a bare Nest packet, a forged envelope, and a captured genuine one replayed. */
async function controlAttacks(c: TestCluster, attacker: BusAttacker, victim: string): Promise<void> {
  const pattern = controlPattern(c.info.cluster, victim);
  await attacker.publish(victim, pattern, 'garbage');
  await attacker.publish(victim, pattern, JSON.stringify({ pattern, data: null, id: 'x0' }));
  await attacker.publish(victim, pattern, JSON.stringify({ pattern, data: { action: 'isolate' } })); // an event: no id
  await attacker.publish(victim, pattern, JSON.stringify({ pattern, data: { action: 'isolate' }, id: 'x1' }));
  const forged = encodeFrame(
    { from: 'gw-attacker', inc: Date.now(), seq: 1, toInc: 0, macs: { gateway: Buffer.alloc(16) } },
    packBody({ corr: 'c1', req: { action: 'isolate' } }),
  );
  await attacker.publish(victim, pattern, JSON.stringify({ pattern, data: { frame: forged.toString('base64') }, id: 'x2' }));
  const captured = await attacker.capture(victim, pattern, async () => {
    expect((await c.admin(victim, 'isolate')).status).toBe(200);
  });
  expect(captured.length).toBeGreaterThan(0);
  expect((await c.admin(victim, 'heal')).status).toBe(200);
  for (const packet of captured) await attacker.publish(victim, pattern, packet);
  // Several beacon periods (200 ms): an isolation the replays caused must be visible by then.
  await new Promise((r) => setTimeout(r, 1500));
}

/** How many frames the replica has refused, by reason, as its last metrics snapshot says. */
async function refusals(c: TestCluster, node: string) {
  const m = String((await c.http('GET', '/metrics')).body);
  return { badMac: rejectedCount(m, node, 'bad_mac'), replayed: rejectedCount(m, node, 'replayed'), stale: rejectedCount(m, node, 'stale_incarnation') };
}

/**
 * Frames captured on the victim's inbox, replayed verbatim and with a byte flipped (refused and
 * counted); then the victim restarts (a new incarnation) and gets the old frames again.
 */
async function replayAttacks(c: TestCluster, attacker: BusAttacker, acked: Acked, victim: string, channel: string, tag: string): Promise<Buffer[]> {
  let i = 0;
  const frames = await attacker.capture(victim, channel, async () => {
    for (; i < 5; i++) await write(c, acked, `${tag}-${i}`, `v${i}`);
  });
  expect(frames.length).toBeGreaterThan(0);
  for (const f of frames) {
    await attacker.publish(victim, channel, f);
    await attacker.publish(victim, channel, flipBodyByte(f));
  }
  await waitFor(
    async () => ((r) => (r.badMac >= frames.length && r.replayed >= frames.length ? r : null))(await refusals(c, victim)),
    15_000,
    'the replays and flipped frames counted',
  );
  expect((await c.admin(victim, 'kill', '?mode=hard')).status).toBe(200);
  const revived = await c.admin(victim, 'revive');
  expect(revived.status).toBe(200);
  // The new process's own beacon (its pid), not the last one of the killed process, still fresh:
  // only then is it listening, and only then can it refuse the old frames.
  await waitFor(
    async () =>
      (await c.clusterState()).nodes.some((n: { id: string; pid: number; alive: boolean }) => n.id === victim && n.alive && n.pid === revived.body.pid)
        ? true
        : null,
    30_000,
    'the restarted process up',
  );
  await c.waitForConvergence(30_000, [victim]);
  await write(c, acked, `${tag}-restarted`, 'ok');
  for (const f of frames) await attacker.publish(victim, channel, f);
  await write(c, acked, `${tag}-after`, 'ok');
  return frames;
}

/** A fresh cluster (started before the block's tests, stopped after), an attacker on its bus, and the writes acknowledged. */
function attackedCluster(protocol: string, nodes: number, env: Record<string, string> = {}): { c: TestCluster; attacker: BusAttacker; acked: Acked } {
  const t = { acked: new Map() } as { c: TestCluster; attacker: BusAttacker; acked: Acked };
  beforeAll(async () => {
    t.c = await TestCluster.start(['--protocol', protocol, '--nodes', String(nodes)], env);
    await t.c.waitForLeader();
    t.attacker = new BusAttacker(t.c.info);
    await write(t.c, t.acked, 'before', '1');
  }, 60_000);
  afterAll(async () => {
    t.attacker?.stop();
    await t.c?.stop();
  });
  return t;
}

describe.each([
  ['raft', 3],
  ['pbft', 4],
])('bus attacks on %s, frame authentication on', (protocol, nodes) => {
  const t = attackedCluster(protocol as string, nodes as number);

  if (protocol === 'raft') {
    it('a forged conflicting AppendEntries is dropped: nothing acknowledged is lost, the replicas agree', async () => {
      await forgeAppendEntries(t.c, t.attacker);
      await write(t.c, t.acked, 'victim', 'real');
      expect(await problems(t.c, t.acked)).toEqual([]);
      const { follower } = await followerOf(t.c);
      await waitFor(async () => ((await refusals(t.c, follower)).badMac > 0 ? true : null), 10_000, 'the forged frame counted as bad_mac');
    }, 60_000);

    it('a forged vote with term 2^53-2 or 2^53-1 changes nobody’s term', async () => {
      const before = Math.max(...(await t.c.clusterState()).nodes.map((n: any) => n.term));
      await forgeHugeVote(t.c, t.attacker);
      await write(t.c, t.acked, 'after-vote', 'ok');
      expect(await problems(t.c, t.acked)).toEqual([]);
      const after = Math.max(...(await t.c.clusterState()).nodes.map((n: any) => n.term));
      expect(after).toBeLessThan(before + 5);
    }, 60_000);
  }

  it('control commands published on the bus (bare, forged, replayed) isolate nobody', async () => {
    const { follower } = await followerOf(t.c);
    await controlAttacks(t.c, t.attacker, follower);
    expect(await problems(t.c, t.acked)).toEqual([]);
  }, 60_000);

  it('captured frames replayed, byte-flipped, and replayed to a restarted replica are refused and counted', async () => {
    const { follower } = await followerOf(t.c);
    // Raft's leader talks to each follower directly; PBFT's replicas mostly broadcast.
    const channel = protocol === 'raft' ? channelFor(t.c.info.cluster, follower) : topicChannel(t.c.info.cluster, 'broadcast');
    await replayAttacks(t.c, t.attacker, t.acked, follower, channel, `replay-${protocol}`);
    expect(await problems(t.c, t.acked)).toEqual([]);
    // Raft's frames name the receiver's incarnation: the restarted process refuses the old ones as
    // stale. PBFT's broadcasts name none; what the new process heard from a sender first sets the
    // floor, so they are refused as replays (or, before it heard anything, taken once: harmless
    // to PBFT, whose messages are signed and may be duplicated by any network).
    if (protocol === 'raft') await waitFor(async () => ((r) => (r.stale > 0 ? r : null))(await refusals(t.c, follower)), 15_000, 'the stale frames counted');
  }, 120_000);
});

describe.each([
  ['raft', 3],
  ['pbft', 4],
])('canary: the same attacks on %s with frame authentication off (BUS_AUTH=off-test-only)', (protocol, nodes) => {
  const t = attackedCluster(protocol as string, nodes as number, { BUS_AUTH: 'off-test-only', NODE_ENV: 'test' });

  it('a replayed control command isolates the replica, and the check reports it', async () => {
    const { follower } = await followerOf(t.c);
    const isolated = `${follower} is isolated`;
    // Up to three tries: on a loaded machine a capture has once missed the command (a CI run),
    // which proves nothing either way. Polled: the replica's beacon may report the isolation late.
    let found: string[] = [];
    for (let attempt = 0; attempt < 3 && !found.includes(isolated); attempt++) {
      await controlAttacks(t.c, t.attacker, follower);
      found = await waitFor(async () => ((p) => (p.includes(isolated) ? p : null))(await problems(t.c, t.acked, 3000)), 15_000, 'the isolation reported').catch(
        () => [],
      );
    }
    expect(found).toContainEqual(isolated);
    expect((await t.c.admin(follower, 'heal')).status).toBe(200);
  }, 150_000);

  if (protocol === 'raft') {
    it('a forged AppendEntries makes the replicas diverge, and the check reports it', async () => {
      // The forged entry must land just past the leader's last one, read from the beacons; on a
      // loaded machine it sometimes collides with a real entry and is ignored: up to three tries.
      let found: string[] = [];
      for (let i = 0; i < 3 && !found.some((p) => p.startsWith('replicas differ')); i++) {
        await forgeAppendEntries(t.c, t.attacker, `victim-${i}`);
        await write(t.c, t.acked, `victim-${i}`, 'real');
        found = await problems(t.c, t.acked, 5000);
      }
      expect(found).toContainEqual(expect.stringMatching(/^replicas differ/));
    }, 60_000);

    it('a forged 2^53-2 vote leaves the cluster without a leader, and the check reports it', async () => {
      await forgeHugeVote(t.c, t.attacker);
      expect(await problems(t.c, t.acked, 5000)).toContainEqual('no leader');
    }, 60_000);
  }
});
