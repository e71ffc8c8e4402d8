import { runBatch } from '../runner';
import { PBFT_CANARIES } from './canaries';
import { runPbftSchedule } from './run';

/** Each deliberately broken variant must be caught within this many seeds. */
const BUDGET = 300;

describe('PBFT simulator canaries', () => {
  for (const name of Object.keys(PBFT_CANARIES)) {
    it(`catches ${name} within ${BUDGET} seeds`, () => {
      const { ran, failures } = runBatch(runPbftSchedule, { from: 1, count: BUDGET, canary: name, stopAtFirst: true });
      expect(failures.length).toBe(1);
      const violation = failures[0].violations[0];
      // A real invariant violation, not a crash of the simulator.
      expect(violation).not.toMatch(/^exception/);
      expect(violation).toMatch(/^(agreement|exactly-once|client-result|checkpoint-agreement|liveness|execution-order)/);
      expect(ran).toBeLessThanOrEqual(BUDGET);
    });
  }

  it('the correct protocol passes the seeds that catch the canaries', () => {
    for (const name of Object.keys(PBFT_CANARIES)) {
      const { failures } = runBatch(runPbftSchedule, { from: 1, count: BUDGET, canary: name, stopAtFirst: true });
      const seed = failures[0].seed;
      expect(runPbftSchedule(seed, {}).violations).toEqual([]);
    }
  });
});
