import { TestCluster, waitFor } from './support/cluster';

/**
 * Exactly-once fails closed (DESIGN: "Past the dedup window a retry gets a definite error, never a
 * second effect"): a write whose outcome is unknown (504), retried after its client moved its
 * session window on, is refused with 409 — whether or not the first attempt was applied — and the
 * key keeps what was written after it. Real processes, both protocols, session window 20.
 */
describe.each(['raft', 'pbft'])('%s: a 504 retried past its session window', (protocol) => {
  let c: TestCluster;

  beforeAll(async () => {
    // The gateway's beacon timeout outlasts its deadline: replicas frozen for one request still
    // look alive to it, so it sends the request rather than answer 503 at once.
    const gateway = ['--gateway-env', 'REQUEST_TIMEOUT_MS=1500', '--gateway-env', 'BEACON_TIMEOUT_MS=10000'];
    c = await TestCluster.start(['--protocol', protocol, '--session-window', '20', ...gateway, '--node-env', 'TICK_MS=20']);
    await c.waitForLeader();
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  it('gets 409 (outside-window), and nothing is applied twice', async () => {
    expect((await c.putUntilOk('fate', 'before', 30_000, 'other/1')).status).toBe(200);

    // No quorum (two replica processes frozen: 2 of 3, or 2 of 4 with f = 1) while the gateway
    // still takes them for alive: the leader (primary) takes the write but cannot commit it, and
    // the deadline passes. (Killed or isolated replicas would be a 503 at once: the gateway knows.)
    const leader = await c.waitForLeader();
    const victims = c.info.nodes.filter((n) => n.id !== leader).slice(0, 2);
    for (const v of victims) process.kill(v.pid, 'SIGSTOP');
    let lost;
    try {
      lost = await c.put('fate', 'first', { 'idempotency-key': 'client-a/1' });
    } finally {
      for (const v of victims) process.kill(v.pid, 'SIGCONT');
    }
    expect(lost.status).toBe(504);
    expect(lost.body).toMatchObject({ type: 'https://synod.dev/problems/outcome-unknown', requestId: 'client-a/1' });

    // The cluster heals (the first attempt may or may not commit now), the key is overwritten,
    // and the same client moves on by more than its window.
    expect((await c.putUntilOk('fate', 'after', 60_000, 'other/2')).status).toBe(200);
    for (let seq = 2; seq <= 41; seq++) expect((await c.putUntilOk(`filler-${seq % 4}`, `${seq}`, 30_000, `client-a/${seq}`)).status).toBe(200);

    const retry = await c.put('fate', 'first', { 'idempotency-key': 'client-a/1' });
    expect(retry.status).toBe(409);
    expect(retry.body).toMatchObject({ type: 'https://synod.dev/problems/idempotency-key-expired', field: 'Idempotency-Key', reason: 'outside-window' });
    expect((await c.get('fate')).body.value).toBe('after');
    // Within the window a retry is still a retry: the first answer, no second effect.
    const recent = await c.put('filler-1', '41', { 'idempotency-key': 'client-a/41' });
    expect(recent.status).toBe(200);
    expect(recent.body.value).toBe('41');

    // And every replica agrees on it.
    await waitFor(
      async () => {
        const s = await c.clusterState();
        const states = new Set(s.nodes.filter((n: any) => n.alive).map((n: any) => `${n.appliedIndex}/${n.digest}`));
        return states.size === 1 && s.nodes.every((n: any) => n.alive) ? true : null;
      },
      30_000,
      'one state on every replica',
    );
  }, 180_000);
});
