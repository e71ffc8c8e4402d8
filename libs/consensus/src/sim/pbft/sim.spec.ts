import { runBatch } from '../runner';
import { PbftSim } from './cluster';
import { runPbftSchedule } from './run';

describe('PBFT simulator', () => {
  it('holds every invariant over 400 seeded schedules', () => {
    const { ran, failures } = runBatch(runPbftSchedule, { from: 1, count: 400 });
    expect(ran).toBe(400);
    expect(failures.map((f) => `seed ${f.seed}: ${f.violations[0]}`)).toEqual([]);
  });

  it('the schedules exercise what they claim: view changes, crashes, state transfer, Byzantine replicas, 7 replicas', () => {
    const totals = { viewChanges: 0, crashes: 0, stateTransfers: 0, accepted: 0 };
    let byzantine = 0;
    let seven = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const sim = new PbftSim({ seed });
      const r = sim.run();
      expect(r.violations).toEqual([]);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      if (sim.params.byzantine.size > 0) byzantine++;
      if (sim.params.replicas === 7) seven++;
    }
    expect(totals.viewChanges).toBeGreaterThan(40);
    expect(totals.crashes).toBeGreaterThan(40);
    expect(totals.stateTransfers).toBeGreaterThan(5);
    expect(totals.accepted).toBeGreaterThan(400);
    expect(byzantine).toBeGreaterThan(10);
    expect(seven).toBeGreaterThan(2);
  });

  it('a seed replays identically (the trace is the same twice)', () => {
    const a = runPbftSchedule(17, { trace: true });
    const b = runPbftSchedule(17, { trace: true });
    expect(a.trace.length).toBeGreaterThan(100);
    expect(b.trace).toEqual(a.trace);
  });
});
