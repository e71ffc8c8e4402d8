import { seededRng } from '@app/consensus/util/rng';
import { runRaftRuntimeSim } from '../testing/raft-runtime-sim';

/**
 * The production Raft runtime under the simulator's faults, on jest's fake clock (one seed, one
 * schedule). RUNTIME_SIM_SEEDS=N runs more.
 */
const SEEDS = Array.from({ length: Number(process.env.RUNTIME_SIM_SEEDS ?? 10) }, (_, i) => i + 1);

describe('the simulator driving the production Raft runtime', () => {
  let acknowledged = 0;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it.each(SEEDS)('seed %i: linearizable, converged', async (seed) => {
    const random = seededRng(seed ^ 0x5bd1e995);
    jest.spyOn(Math, 'random').mockImplementation(() => random.next()); // election jitter
    const r = await runRaftRuntimeSim({ seed, advance: (ms) => jest.advanceTimersByTimeAsync(ms) });
    expect(r.violation).toBeNull();
    acknowledged += r.acknowledgedWrites;
  });

  // Some schedules spend most of their time without a quorum; together they do plenty.
  it('the schedules acknowledged writes, about 30 per seed at least', () => {
    expect(acknowledged).toBeGreaterThan(30 * SEEDS.length);
  });
});

describe('the runtime simulator can fail', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('catches a disk that acknowledges writes it does not keep (the store refuses the gap, the runtime reports it)', async () => {
    const found: string[] = [];
    for (let seed = 1; seed <= 10 && found.length === 0; seed++) {
      const random = seededRng(seed ^ 0x5bd1e995);
      jest.spyOn(Math, 'random').mockImplementation(() => random.next());
      const r = await runRaftRuntimeSim({ seed, lyingDisk: true, advance: (ms) => jest.advanceTimersByTimeAsync(ms) });
      if (r.violation !== null) found.push(r.violation);
    }
    expect(found).not.toHaveLength(0);
    expect(found[0]).toMatch(/fatal: CONFLICT/);
  });
});
