import { runBatch } from '../runner';
import { RaftSim, type RaftSimStats } from './cluster';
import { runRaftSchedule } from './run';

const VIOLATION = /^[a-z-]+: seed=\d+ step=\d+ t=\d+\.\d\d nodes=[\w,]*: .+/;

describe('Raft simulator', () => {
  it('holds every invariant on 500 seeded schedules', () => {
    const { ran, failures } = runBatch(runRaftSchedule, { from: 1, count: 500 });
    expect(ran).toBe(500);
    expect(failures.map((f) => `${f.violations[0]}\n  replay: npm run sim -- --protocol raft --seed ${f.seed}`)).toEqual([]);
  }, 120_000);

  it('replays a seed exactly: same seed, same trace', () => {
    const a = runRaftSchedule(42, { trace: true });
    const b = runRaftSchedule(42, { trace: true });
    expect(a.trace.length).toBeGreaterThan(1000);
    expect(b.trace).toEqual(a.trace);
    expect(runRaftSchedule(43, { trace: true }).trace).not.toEqual(a.trace);
  });

  it('gives the same outcome with and without a trace', () => {
    for (const canary of [undefined, 'forget-vote']) {
      for (let seed = 1; seed <= 30; seed++) {
        expect(runRaftSchedule(seed, { canary }).violations).toEqual(runRaftSchedule(seed, { trace: true, canary }).violations);
      }
    }
  });

  it('really exercises faults, elections, writes and reads', () => {
    const total: Partial<Record<keyof RaftSimStats, number>> = {};
    const seeds = 40;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = new RaftSim({ seed }).run();
      expect(r.violations).toEqual([]);
      // Every schedule converges after healing (the liveness phase ran to its end).
      expect(r.stats.convergedAfterHeal).toBeGreaterThanOrEqual(0);
      for (const [k, v] of Object.entries(r.stats) as [keyof RaftSimStats, number][]) total[k] = (total[k] ?? 0) + v;
    }
    expect(total.crashes! / seeds).toBeGreaterThan(10);
    expect(total.leaders! / seeds).toBeGreaterThan(10);
    expect(total.ackedWrites! / seeds).toBeGreaterThan(20);
    expect(total.reads! / seeds).toBeGreaterThan(10);
  });

  it('reports a broken run as a violation naming invariant, seed, step and nodes', () => {
    const { failures } = runBatch(runRaftSchedule, { from: 1, count: 50, canary: 'skip-up-to-date-check', stopAtFirst: true });
    expect(failures).toHaveLength(1);
    expect(failures[0].violations[0]).toMatch(VIOLATION);
    expect(failures[0].violations[0]).toContain(`seed=${failures[0].seed} `);
  });

  it('catches an acknowledged write that was never committed (final check)', () => {
    let found: string | undefined;
    for (let seed = 1; seed <= 100 && found === undefined; seed++) {
      const r = new RaftSim({ seed, runtimeFault: 'ack-on-append', params: { readShare: 0 } }).run();
      found = r.violations.find((v) => v.startsWith('no-lost-write:'));
    }
    expect(found).toMatch(VIOLATION);
  });

  it('keeps the schedules that found liveness and membership bugs past seed 1500', () => {
    // 1970: a wiped machine under a removed id elected a stale server (leader completeness): the
    // nemesis no longer reuses ids and the core refuses them (unit tests kill those mutants).
    // 8104, 1314 (and 411, 1830, 4146, 7561): a candidate that could not win kept restarting the
    // timer of the voter that could (no leader after healing); 8487: a backlog caught up one entry
    // per round trip.
    for (const seed of [1970, 8104, 1314, 411, 8487]) expect(runRaftSchedule(seed, {}).violations).toEqual([]);
    expect(runRaftSchedule(1314, { canary: 'raft.vote.term-resets-timer' }).violations[0]).toMatch(/^liveness: .*no leader/);
  });

  it('catches a replica that never converges (liveness)', () => {
    // A bound of one tick after healing: no cluster elects and catches up that fast.
    let found: string | undefined;
    for (let seed = 1; seed <= 100 && found === undefined; seed++) {
      const r = new RaftSim({ seed, params: { livenessBound: 1, leaderBound: 1 } }).run();
      found = r.violations.find((v) => v.startsWith('liveness:'));
    }
    expect(found).toMatch(VIOLATION);
  });
});
