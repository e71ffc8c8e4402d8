import { PbftSim } from './cluster';

describe('PBFT simulator, reconfiguration (grow 4 -> 7, shrink 7 -> 4, replace, under crashes, partitions and Byzantine replicas)', () => {
  it('holds every invariant across configurations over 120 reconfiguring schedules, and every replica of the final configuration converges', () => {
    let reconfigurations = 0;
    let changed = 0;
    const failures: string[] = [];
    for (let seed = 1; seed <= 120; seed++) {
      const r = new PbftSim({ seed, params: { reconfigure: true } }).run();
      if (r.violations.length > 0) failures.push(`seed ${seed}: ${r.violations[0]}`);
      reconfigurations += r.stats.reconfigurations;
      if (r.stats.finalEpoch > 0) changed++;
    }
    expect(failures).toEqual([]);
    expect(reconfigurations).toBeGreaterThan(150);
    expect(changed).toBeGreaterThan(80);
  });
});
