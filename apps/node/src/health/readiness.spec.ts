import type { RuntimeStatus } from '../replica/runtime';
import { HealthController, READY_WAIT_MS } from './health.controller';
import { catchUpTarget, isReady, knowsLeader } from './readiness';

const status = (over: Partial<RuntimeStatus> = {}): RuntimeStatus => ({
  role: 'follower',
  term: 2,
  leader: 'n1',
  commitIndex: 10,
  leaderCommit: 10,
  appliedIndex: 10,
  counters: {},
  ...over,
});

describe('replica readiness rules', () => {
  it('Raft must apply the leader’s commitIndex (leaderCommit); PBFT must have executed up to h (else state transfer is under way)', () => {
    expect(catchUpTarget('raft', status({ commitIndex: 12, leaderCommit: 12, appliedIndex: 9 }))).toBe(12);
    expect(catchUpTarget('raft', status({ commitIndex: 12, leaderCommit: 900, appliedIndex: 12 }))).toBe(900); // not its own commitIndex
    expect(catchUpTarget('raft', status({ leader: null, leaderCommit: null }))).toBeNull(); // no leader: nothing to be caught up with
    expect(catchUpTarget('raft', status({ leader: null, leaderCommit: 10 }))).toBeNull();
    expect(catchUpTarget('pbft', status({ commitIndex: 40, appliedIndex: 40, stableCheckpoint: 32, lowWaterMark: 64 }))).toBe(64);
    expect(catchUpTarget('pbft', status({ stableCheckpoint: 32 }))).toBe(32);
  });

  it('a leader is known only by a loaded runtime that names one', () => {
    expect(knowsLeader(status())).toBe(true);
    expect(knowsLeader(status({ leader: null }))).toBe(false); // electing / view change
    expect(knowsLeader(status({ role: 'starting' }))).toBe(false);
    expect(knowsLeader(null)).toBe(false); // killed
  });

  it('ready needs every check', () => {
    const all = { alive: true, storage: true, bus: true, leader: true, caughtUp: true, termLeft: true };
    expect(isReady(all)).toBe(true);
    for (const k of Object.keys(all)) expect(isReady({ ...all, [k]: false })).toBe(false);
  });
});

describe('replica /health/ready catch-up', () => {
  /** The controller over a replica whose status the test moves (Redis is not what is under test here). */
  function controller(protocol: 'raft' | 'pbft', s: { current: RuntimeStatus | null }) {
    const replica = {
      runtimeStatus: () => s.current,
      controlStatus: () => ({ id: 'n1' }),
      pingStorage: () => Promise.resolve('PONG'),
      bus: { listening: () => true },
    };
    const res = {
      code: 0,
      status(c: number) {
        this.code = c;
        return this;
      },
    };
    const c = new HealthController(replica as never, { nodeId: 'n1', protocol } as never);
    return { ask: async () => ({ body: await c.ready(res as never), code: res.code }) };
  }

  it('a replica applying what was committed when asked is caught up (busy, not behind)', async () => {
    const s = { current: status({ commitIndex: 20, leaderCommit: 20, appliedIndex: 15 }) as RuntimeStatus | null };
    const { ask } = controller('raft', s);
    setTimeout(() => (s.current = status({ commitIndex: 30, leaderCommit: 30, appliedIndex: 21 })), 50); // past 20, while more commits
    expect(await ask()).toMatchObject({ code: 200, body: { status: 'ready', checks: { caughtUp: true } } });
  });

  it('one that does not reach it within the wait is behind: 503', async () => {
    const s = { current: status({ commitIndex: 20, leaderCommit: 20, appliedIndex: 15 }) as RuntimeStatus | null };
    const started = Date.now();
    expect(await controller('raft', s).ask()).toMatchObject({ code: 503, body: { status: 'unready', checks: { caughtUp: false, leader: true } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(READY_WAIT_MS - 5);
  });

  it('a runtime whose term/view is at its ceiling is unready, and the body says why', async () => {
    const s = { current: status({ fatal: 'raft term 9007199254740990 is at the ceiling' }) as RuntimeStatus | null };
    expect(await controller('raft', s).ask()).toMatchObject({
      code: 503,
      body: { status: 'unready', checks: { termLeft: false, leader: true, caughtUp: true }, fatal: 'raft term 9007199254740990 is at the ceiling' },
    });
    const fine = { current: status() as RuntimeStatus | null };
    const ok = await controller('raft', fine).ask();
    expect(ok).toMatchObject({ code: 200, body: { checks: { termLeft: true } } });
    expect(ok.body).not.toHaveProperty('fatal');
  });

  it('a Raft follower far behind the leader is not caught up, though it applied its own commitIndex; then ready once it applies leaderCommit', async () => {
    // Its log ends at 10 (the leader's AppendEntries did not match further yet), so its own
    // commitIndex is 10 and all of it is applied; the leader said it has committed 5000.
    const behind = status({ commitIndex: 10, appliedIndex: 10, leaderCommit: 5000 });
    // Canary: the old rule (applied >= own commitIndex) would have called this replica caught up.
    const oldRule = (s: RuntimeStatus) => s.appliedIndex >= s.commitIndex;
    expect(oldRule(behind)).toBe(true);

    const s = { current: behind as RuntimeStatus | null };
    expect(await controller('raft', s).ask()).toMatchObject({ code: 503, body: { status: 'unready', checks: { caughtUp: false, leader: true } } });
    s.current = status({ commitIndex: 4000, appliedIndex: 4000, leaderCommit: 5000 }); // catching up, still 1000 short
    expect(await controller('raft', s).ask()).toMatchObject({ code: 503, body: { checks: { caughtUp: false } } });
    s.current = status({ commitIndex: 5000, appliedIndex: 5000, leaderCommit: 5000 });
    expect(await controller('raft', s).ask()).toMatchObject({ code: 200, body: { status: 'ready', checks: { caughtUp: true } } });
  });

  it('a Raft replica that knows no leader is not caught up (and not ready)', async () => {
    const s = { current: status({ role: 'pre-candidate', leader: null, leaderCommit: null }) as RuntimeStatus | null };
    expect(await controller('raft', s).ask()).toMatchObject({ code: 503, body: { checks: { caughtUp: false, leader: false } } });
  });

  it('PBFT executing below the certified stable checkpoint is not caught up', async () => {
    const behind = { current: status({ role: 'backup', appliedIndex: 40, commitIndex: 40, stableCheckpoint: 32, lowWaterMark: 64 }) as RuntimeStatus | null };
    expect(await controller('pbft', behind).ask()).toMatchObject({ code: 503, body: { checks: { caughtUp: false } } });
    const fine = { current: status({ role: 'backup', appliedIndex: 70, commitIndex: 70, stableCheckpoint: 64, lowWaterMark: 64 }) as RuntimeStatus | null };
    expect(await controller('pbft', fine).ask()).toMatchObject({ code: 200 });
  });
});
