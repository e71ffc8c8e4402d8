import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '@app/consensus/util/rng';
import { ensureKeys, PBFT_CLIENT_ID } from '@app/wire';
import { PBFT_SIM_REPLICAS, runPbftRuntimeSim } from '../testing/pbft-runtime-sim';

/**
 * The production PBFT runtime under the simulator's faults and one Byzantine replica (the admin
 * API's behaviours), on jest's fake clock. RUNTIME_SIM_SEEDS=N runs more.
 */
jest.setTimeout(120_000);

const SEEDS = Array.from({ length: Number(process.env.RUNTIME_SIM_SEEDS ?? 8) }, (_, i) => i + 1);
let keysDir: string;

beforeAll(() => {
  keysDir = mkdtempSync(join(tmpdir(), 'synod-pbft-sim-keys-'));
  ensureKeys(keysDir, [...PBFT_SIM_REPLICAS, PBFT_CLIENT_ID]);
});

afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

describe('the simulator driving the production PBFT runtime', () => {
  let acknowledged = 0;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it.each(SEEDS)('seed %i: linearizable, the correct replicas converge', async (seed) => {
    const random = seededRng(seed ^ 0x2c1b3c6d);
    jest.spyOn(Math, 'random').mockImplementation(() => random.next());
    const r = await runPbftRuntimeSim({ seed, keysDir, advance: (ms) => jest.advanceTimersByTimeAsync(ms) });
    expect(r.violation).toBeNull();
    acknowledged += r.acknowledgedWrites;
  });

  it('the schedules acknowledged writes, about 20 per seed at least', () => {
    expect(acknowledged).toBeGreaterThan(20 * SEEDS.length);
  });
});
