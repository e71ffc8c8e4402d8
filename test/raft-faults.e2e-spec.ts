import { TestCluster, waitFor } from './support/cluster';
import { WireClient } from './support/wire-client';

/**
 * Faults on a real Raft cluster. Small snapshot interval so a revived replica must catch up
 * through InstallSnapshot; fast ticks so elections take a fraction of a second.
 */
describe('Raft cluster under faults', () => {
  let c: TestCluster;
  /** Every write the cluster acknowledged: key -> value. Checked at the end. */
  const acked = new Map<string, string>();

  const write = async (key: string, value: string) => {
    const r = await c.putUntilOk(key, value);
    acked.set(key, value);
    return r;
  };

  const alive = async (): Promise<string[]> => (await c.clusterState()).nodes.filter((n: any) => n.alive).map((n: any) => n.id as string);

  beforeAll(async () => {
    c = await TestCluster.start(['--protocol', 'raft', '--node-env', 'SNAPSHOT_EVERY=50', '--node-env', 'TICK_MS=20']);
    await c.waitForLeader();
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('elects a new leader when the leader is killed, and the revived one catches up by InstallSnapshot', async () => {
    await write('before-kill', '1');
    const old = await c.waitForLeader();
    const killed = await c.admin(old, 'kill');
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({ id: old, alive: false });

    const next = await c.waitForLeader([old]);
    expect(next).not.toBe(old);
    for (let i = 0; i < 120; i++) await write(`while-down-${i}`, `${i}`); // > 2 snapshot intervals
    const revived = await c.admin(old, 'revive');
    expect(revived.status).toBe(200);
    expect(revived.body.alive).toBe(true);
    await c.waitForConvergence(20_000, [old]);
    // replicas log JSON lines: {"level":"info",...,"node":"n2",...,"msg":"raft: installed snapshot at 7 from the leader"}
    expect(c.logs()).toMatch(new RegExp(`"node":"${old}"[^\\n]*"msg":"raft: installed snapshot at \\d+ from the leader"`));
  }, 90_000);

  it('keeps writing with a minority down; a majority down gives 503 without hanging; revival resumes', async () => {
    const leader = await c.waitForLeader();
    const followers = (await alive()).filter((id) => id !== leader);
    await c.admin(followers[0], 'kill');
    await write('minority-down', 'ok');

    await c.admin(followers[1], 'kill');
    // The gateway marks a replica dead ~900 ms after its last beacon; from then on its view has no
    // quorum and /health/ready says so. Wait for that (the time it takes is not what is measured
    // here: a loaded machine may delay it), not for the leader's check-quorum step-down.
    await waitFor(
      async () => {
        const ready = await c.http('GET', '/health/ready');
        return ready.status === 503 && ready.body?.checks?.quorum === false ? true : null;
      },
      20_000,
      'the gateway to see the quorum gone',
    );
    // Then a write is refused at once (nothing sent), not at the 5 s request deadline: the bound
    // is well under it, and leaves a loaded 2-core machine over a second for one loopback request.
    const t0 = Date.now();
    const r = await c.put('majority-down', 'x');
    const tookMs = Date.now() - t0;
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(tookMs).toBeLessThan(1_500);
    const read = await c.get('minority-down');
    expect([503, 504]).toContain(read.status);

    await c.admin(followers[0], 'revive');
    await c.admin(followers[1], 'revive');
    await write('majority-back', 'ok');
    await c.waitForConvergence();
  }, 120_000);

  it('an isolated leader steps down; the majority elects another; the isolated one refuses linearizable reads', async () => {
    const wire = new WireClient(c.info);
    await wire.start();
    try {
      await write('iso', 'before');
      const old = await c.waitForLeader();
      await c.admin(old, 'isolate');
      const next = await c.waitForLeader([old]);
      expect(next).not.toBe(old);
      await write('iso', 'after');

      await waitFor(
        async () => {
          const n = (await c.clusterState()).nodes.find((x: any) => x.id === old);
          return n.role !== 'leader' ? true : null;
        },
        20_000,
        'the isolated leader to step down',
      );
      const lin = await wire.read(old, 'iso', 'linearizable');
      expect(lin === null || lin.t === 'redirect').toBe(true); // never the stale value
      const stale = await wire.read(old, 'iso', 'stale');
      expect(stale).toMatchObject({ t: 'read-result', items: [{ key: 'iso', value: 'before' }] });
      expect((await c.get('iso')).body.value).toBe('after');

      await c.admin(old, 'heal');
      await c.waitForConvergence(20_000, [old]);
      // Healed, it catches up: its own answer (not the gateway's view of its beacons) says when.
      let last: unknown = null;
      await waitFor(
        async () => {
          last = await wire.read(old, 'iso', 'stale', 2000);
          return (last as any)?.items?.[0]?.value === 'after' ? true : null;
        },
        15_000,
        'the healed replica to read back the write made while it was cut off',
      ).catch((err: Error) => {
        throw new Error(`${err.message}; its last answer: ${JSON.stringify(last)}`);
      });
    } finally {
      await wire.stop();
    }
  }, 90_000);

  it('survives SIGKILL of a follower and of the leader (respawned processes) without losing an acknowledged write', async () => {
    const leader = await c.waitForLeader();
    const follower = (await alive()).find((id) => id !== leader)!;
    const hard = await c.admin(follower, 'kill', '?mode=hard');
    expect(hard.status).toBe(200);
    await write('hard-1', 'a');
    expect((await c.admin(follower, 'revive')).status).toBe(200);

    await c.admin(leader, 'kill', '?mode=hard');
    await c.waitForLeader([leader]);
    await write('hard-2', 'b');
    expect((await c.admin(leader, 'revive')).status).toBe(200);
    await waitFor(async () => ((await alive()).length === 3 ? true : null), 30_000, 'all three replicas alive');
    await c.waitForConvergence(30_000);

    for (const [k, v] of acked) {
      const r = await c.get(k);
      expect({ key: k, status: r.status, value: r.body.value }).toEqual({ key: k, status: 200, value: v });
    }
  }, 120_000);
});
