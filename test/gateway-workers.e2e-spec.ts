import { execFileSync } from 'node:child_process';
import { TestCluster, waitFor } from './support/cluster';

/**
 * GATEWAY_WORKERS: several gateway processes share the port (node:cluster). Requests are served
 * whichever process takes the connection, and a worker that dies is started again by the
 * gateway's primary process while the others keep serving.
 */
describe('gateway workers', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await TestCluster.start(['--gateway-workers', '3']);
    await c.waitForLeader();
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 30_000);

  /** The gateway's worker processes: children of the one the launcher started. */
  const workers = (): number[] => {
    const gateway = Number(
      execFileSync('pgrep', ['-f', '-P', String(c.launcherPid), 'apps/gateway/src/main.js'])
        .toString()
        .trim()
        .split('\n')[0],
    );
    return execFileSync('pgrep', ['-P', String(gateway)])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
  };

  it('serves writes and reads on many connections; a killed worker is replaced, the others keep serving', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.putUntilOk(`w${i}`, `v${i}`)));
    for (let i = 0; i < 12; i++) expect((await c.get(`w${i}`)).body.value).toBe(`v${i}`);

    const before = workers();
    expect(before).toHaveLength(3);
    process.kill(before[0], 'SIGKILL');
    for (let i = 0; i < 6; i++) expect((await c.putUntilOk(`after-kill-${i}`, 'x')).status).toBe(200);
    const after = await waitFor(
      async () => {
        const now = workers();
        return now.length === 3 && !now.includes(before[0]) ? now : null;
      },
      15_000,
      'a third worker again',
    );
    expect(after.filter((p) => before.includes(p))).toHaveLength(2);
  }, 60_000);

  it("puts every admin action on every gateway process's fault-lab timeline, once", async () => {
    // The calls land on whichever process takes each connection; so does each read of the timeline.
    // Were admin events kept only where they happened, most reads below would miss some of them.
    const actions = ['isolate', 'heal', 'isolate', 'heal'];
    for (const a of actions) expect((await c.http('POST', `/v1/admin/nodes/n3/${a}`)).status).toBe(200);
    for (let read = 0; read < 6; read++) {
      const timeline = await waitFor(
        async () => {
          const events = ((await c.http('GET', '/v1/lab/state')).body.timeline as Array<{ kind: string; node?: string }>).filter(
            (e) => e.kind === 'admin' && e.node === 'n3',
          );
          return events.length >= actions.length ? events : null;
        },
        5_000,
        'the four admin events on this process',
      );
      expect(timeline).toHaveLength(actions.length);
    }
  }, 60_000);
});
