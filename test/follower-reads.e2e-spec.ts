import { clusterForSuite, waitFor } from './support/cluster';

/**
 * Follower ReadIndex on a real cluster (READS_FROM=any): linearizable reads are spread over the
 * replicas, followers serve them at the index the leader confirms, and no read ever misses a write
 * acknowledged before it began — the same key overwritten while readers on every replica look.
 */
describe('Raft cluster: linearizable reads served by followers', () => {
  const cluster = clusterForSuite(['--protocol', 'raft'], { READS_FROM: 'any' });

  const servedBy = async (): Promise<Record<string, number>> => {
    const c = cluster();
    const text = String((await c.http('GET', '/metrics')).body);
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^synod_runtime_reads_served_total\{[^}]*node="([^"]+)"[^}]*\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
    return out;
  };

  it('reads see every write acknowledged before them, and followers serve them', async () => {
    const c = cluster();
    const leader = await c.waitForLeader();
    const before = await servedBy();
    let acked = 0; // the highest value whose write was acknowledged
    let stop = false;
    const stale: string[] = [];
    const reader = async (): Promise<void> => {
      while (!stop) {
        const floor = acked; // acknowledged before this read began
        const r = await c.get('counter');
        if (r.status === 200 && Number(r.body.value) < floor) stale.push(`read ${r.body.value} after ${floor} was acknowledged`);
      }
    };
    const readers = Array.from({ length: 6 }, reader);
    for (let i = 1; i <= 60; i++) {
      expect((await c.put('counter', String(i))).status).toBe(200);
      acked = i;
    }
    stop = true;
    await Promise.all(readers);
    expect(stale).toEqual([]);
    expect(Number((await c.get('counter')).body.value)).toBe(60);

    // The replicas' counters reach the gateway's /metrics with their beacons: wait for them.
    const followers = await waitFor(
      async () => {
        const now = await servedBy();
        const served = Object.keys(now).filter((id) => id !== leader && now[id] > (before[id] ?? 0));
        return served.length > 0 ? served : null;
      },
      10_000,
      'a follower to have served reads',
    );
    expect(followers.length).toBeGreaterThan(0);
  }, 90_000);
});
