import { withMutants } from '../../mutants';
import { PROTOCOL_ATTACKS } from '../../pbft/byzantine';
import { PbftSim } from './cluster';
import { STRONG_POOL } from './params';

/** Runs seeds from..from+count-1 with the strong adversary; returns the failing ones. */
function strong(from: number, count: number, mutants: string[] = [], stopAtFirst = false): { seed: number; violation: string; byzantine: string }[] {
  const failures: { seed: number; violation: string; byzantine: string }[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const sim = new PbftSim({ seed, adversary: 'strong' });
    const r = withMutants(mutants, () => sim.run());
    if (r.violations.length > 0) {
      failures.push({ seed, violation: r.violations[0], byzantine: [...sim.params.byzantine].map(([i, b]) => `r${i}:${b}`).join(' ') });
      if (stopAtFirst) break;
    }
  }
  return failures;
}

/**
 * The rules issue 10 found unguarded (removing them went unnoticed by the old, filter-only
 * adversary) and the seeds within which the strong adversary must now notice each removal.
 */
const CAUGHT_WITHIN = 100;
const RULES = [
  'pbft.view-change.skip-checkpoint-proof',
  'pbft.view-change.skip-prepared-proof',
  'pbft.new-view.skip-view-change-signatures',
  'pbft.new-view.skip-recompute',
  'pbft.new-view.skip-quorum',
];

describe('PBFT simulator, strong adversary (f protocol-level Byzantine replicas in every schedule)', () => {
  it('holds every invariant over 100 seeded schedules', () => {
    const failures = strong(1, 100);
    expect(failures.map((f) => `seed ${f.seed} [${f.byzantine}]: ${f.violation}`)).toEqual([]);
  });

  it('draws f Byzantine replicas per schedule, from the protocol attacks and Twins only, and every one of them shows up', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const sim = new PbftSim({ seed, adversary: 'strong' });
      const f = (sim.params.replicas - 1) / 3;
      expect(sim.params.byzantine.size).toBe(f);
      for (const b of sim.params.byzantine.values()) {
        expect(STRONG_POOL).toContain(b);
        seen.add(b);
      }
    }
    for (const b of [...PROTOCOL_ATTACKS, 'twins']) expect(seen).toContain(b);
  });

  it('Twins: two copies of one replica under one key equivocate for real, and the correct replicas stay safe', () => {
    let conflicts = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const sim = new PbftSim({ seed, params: { byzantine: new Map([[seed % 2, 'twins' as const]]) } });
      expect(sim.run().violations).toEqual([]);
      for (const id of sim.ids) {
        const host = sim.host(id);
        if (host.correct) conflicts += host.core!.status().dropped['conflicting-pre-prepare'] ?? 0;
      }
    }
    expect(conflicts).toBeGreaterThan(0);
  });

  for (const rule of RULES) {
    it(`notices within ${CAUGHT_WITHIN} seeds when ${rule} is switched on`, () => {
      const [first] = strong(1, CAUGHT_WITHIN, [rule], true);
      expect(first).toBeDefined();
      // A broken invariant, not a crash of the simulator.
      expect(first.violation).toMatch(/^(agreement|exactly-once|client-result|checkpoint-agreement|liveness|execution-order)/);
    });
  }
});
