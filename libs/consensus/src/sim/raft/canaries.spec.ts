import { runBatch } from '../runner';
import { CORE_CANARIES, RAFT_CANARIES } from './canaries';
import { runRaftSchedule } from './run';

/** Safety invariants: a canary must be caught by one of these, not by an exception or a timeout. */
const SAFETY = /^(election-safety|log-matching|leader-completeness|state-machine-safety|no-lost-write|linearizable-read|exactly-once): seed=\d+ /;
const BOUND = 300;

describe('Raft canaries: each deliberately broken variant is caught', () => {
  it('covers the core faults', () => {
    expect(Object.keys(RAFT_CANARIES)).toEqual(expect.arrayContaining([...CORE_CANARIES]));
  });

  it.each(Object.keys(RAFT_CANARIES))(
    `%s: a violation within ${BOUND} seeds`,
    (name) => {
      const { ran, failures } = runBatch(runRaftSchedule, { from: 1, count: BOUND, canary: name, stopAtFirst: true });
      if (failures.length === 0) throw new Error(`canary ${name} was not caught in ${ran} seeds`);
      expect(failures[0].violations[0]).toMatch(SAFETY);
    },
    120_000,
  );

  it('rejects an unknown canary', () => {
    expect(() => runRaftSchedule(1, { canary: 'no-such-canary' })).toThrow(/unknown raft canary "no-such-canary"; known: skip-up-to-date-check/);
  });
});
