import { KILL_TARGETS } from '../tools/availability/faults';
import { killTrial } from '../tools/availability/trial';
import { TestCluster, waitFor } from './support/cluster';

jest.setTimeout(120_000);

// Losing any one process — a replica, any Redis (each replica's Redis is its storage and its bus
// inbox), the queue's Redis, the gateway — costs at most one replica's worth of availability: the
// launcher's supervisor restarts what died, writes go through again within seconds, nothing
// acknowledged is lost, and /health/ready does not claim a readiness the writes contradict.
describe('SIGKILL of any single process (launcher supervises)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await TestCluster.start();
  });
  afterAll(() => c?.stop());

  it.each(KILL_TARGETS)('%s: writes resume within seconds, nothing acknowledged is lost, readiness is honest', async (target) => {
    const r = await killTrial({ gateway: c.url, homes: c.info.homes, queue: c.info.queue }, target, target);
    expect(r.recoveryMs).not.toBeNull();
    // The figures are measured by `npm run availability` (docs/results.md); a timed test only
    // bounds them loosely. A gateway's restart is a Node process start (module loading dominates).
    expect(r.recoveryMs!).toBeLessThan(target === 'gateway' ? 15_000 : 5000);
    expect(r.acked).toBeGreaterThan(10);
    expect(r.lost).toEqual([]);
    expect(r.falseReady).toBe(0);
    if (target === 'redis-queue') {
      // The queue's own Redis came back too: an asynchronous batch completes.
      const job = await c.http('POST', '/v1/commands', { commands: [{ op: 'put', key: 'after-queue-kill', value: 'ok' }] });
      expect(job.status).toBe(202);
      await waitFor(async () => (await c.http('GET', `/v1/commands/${job.body.id}`)).body.state === 'completed', 20_000, 'the batch');
    }
  });

  it('the launcher said what it restarted', () => {
    for (const what of ['replica', 'redis', 'gateway']) expect(c.logs()).toMatch(new RegExp(`\\[launcher\\] ${what} .*died \\(SIGKILL\\).*restarting`));
  });
});
