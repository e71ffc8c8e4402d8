import { checkLinearizable } from '@app/history';
import { clusterForSuite, waitFor } from './support/cluster';
import { finalReads, Workload } from './support/workload';

/**
 * Membership at runtime (issue 13), Raft, on real processes: the launcher provisions three spare
 * identities; the admin API grows the cluster 3 -> 5, replaces a replica (learner, promote, remove
 * the old one), removes the leader and shrinks back to 3 — while clients write and read. Nothing
 * acknowledged is lost, the clients' history is linearizable, and writes keep going but for the
 * elections the changes cause.
 */

describe('membership changes at runtime (raft)', () => {
  const cluster = clusterForSuite(['--protocol', 'raft', '--spares', '3', '--node-env', 'SNAPSHOT_EVERY=200']);
  const members = async () => (await cluster().http('GET', '/v1/members')).body;
  const voters = async () => ((await members()).members as Array<{ id: string; role: string }>).filter((m) => m.role === 'voter').map((m) => m.id);
  const admin = (method: string, path: string, body?: unknown) => cluster().http(method, `/v1/admin${path}`, body);

  it('answers definitely: unknown ids 404, a member added twice 409, bad bodies 400 naming the field', async () => {
    expect((await admin('POST', '/members', { id: 'n99', role: 'voter' })).status).toBe(404);
    expect((await admin('DELETE', '/members/n99')).status).toBe(404);
    expect((await admin('POST', '/members/n99/promote')).status).toBe(404);
    expect((await admin('POST', '/members', { id: 'n1' })).status).toBe(409);
    const bad = await admin('POST', '/members', { id: 'n4', role: 'boss' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('role');
    expect((await admin('POST', '/leader/transfer', {})).body.field).toBe('to');
  });

  it('grows 3 -> 5, replaces a replica, removes the leader and shrinks back under load: nothing lost, linearizable', async () => {
    const c = cluster();
    const load = new Workload(c, 4, 6);
    load.start();
    const step = async (what: string, method: string, path: string, body?: unknown) => {
      const r = await admin(method, path, body);
      if (r.status !== 200) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    try {
      await new Promise((r) => setTimeout(r, 1000));
      // Grow: each new voter joins as a learner and is promoted once caught up.
      expect(await step('add n4', 'POST', '/members', { id: 'n4', role: 'voter' })).toMatchObject({ id: 'n4', role: 'voter' });
      expect(await step('add n5', 'POST', '/members', { id: 'n5', role: 'voter' })).toMatchObject({ id: 'n5', role: 'voter' });
      expect((await voters()).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);

      // Replace n1 by n6: learner, promote, remove the old one.
      expect(await step('add learner n6', 'POST', '/members', { id: 'n6', role: 'learner' })).toMatchObject({ role: 'learner' });
      await waitFor(
        async () => {
          const r = await admin('POST', '/members/n6/promote');
          if (r.status === 409 && r.body.reason === 'learner-behind') return null;
          if (r.status !== 200) throw new Error(`promote n6: ${r.status} ${JSON.stringify(r.body)}`);
          return r.body;
        },
        30_000,
        'n6 caught up and promoted',
      );
      await step('remove n1', 'DELETE', '/members/n1');
      expect((await voters()).sort()).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
      // Ids are never reused: a machine added back as n1 would answer for the n1 that was removed.
      const again = await admin('POST', '/members', { id: 'n1', role: 'learner' });
      expect([again.status, again.body.reason]).toEqual([409, 'retired-member']);

      // Remove the leader: it hands off once its removal commits.
      const leader = await c.waitForLeader();
      await step('remove the leader', 'DELETE', `/members/${leader}`);
      const next = await c.waitForLeader([leader]);
      expect(next).not.toBe(leader);

      // Shrink back to three voters, moving leadership first once (transfer) for good measure.
      const rest = (await voters()).filter((id) => id !== next);
      expect(await step('transfer', 'POST', '/leader/transfer', { to: rest[0] })).toMatchObject({ leader: rest[0] });
      await step('remove one more', 'DELETE', `/members/${rest[1]}`);
      expect(await voters()).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await load.stop();
    }

    // Every acknowledged write is in the final state; the whole history is linearizable.
    const final = await finalReads(c, load.history.length, 6);
    const check = checkLinearizable([...load.history, ...final]);
    expect(check.violations).toEqual([]);
    expect(check.linearizable).toBe(true);
    const acked = load.history.filter((o) => o.kind === 'put' && o.status === 'ok').length;
    expect(acked).toBeGreaterThan(50);
    // Writes went on throughout, but for the elections the changes caused (a few seconds at most here).
    console.log(
      `membership e2e: ${load.history.length} operations, ${acked} acknowledged writes, longest gap between acknowledged writes ${Math.round(load.longestWriteGapMs())} ms`,
    );
    expect(load.longestWriteGapMs()).toBeLessThan(15_000);

    // The three voters converge, and their ledgers agree.
    const state = await c.waitForConvergence(30_000);
    expect(state.nodes.map((n: { id: string }) => n.id).sort()).toEqual((await voters()).sort());
    expect((await c.ledgerVerified()).agree).toBe(true);
  }, 240_000);
});
