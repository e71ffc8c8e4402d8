import type { MutantName, MutantProtocol } from '@app/consensus/mutants';
import { runPbftSchedule } from '@app/consensus/sim/pbft/run';
import { runRaftSchedule } from '@app/consensus/sim/raft/run';
import { runOne } from '@app/consensus/sim/runner';
import type { ScheduleRunner } from '@app/consensus/sim/types';

export interface SimKill {
  seed: number;
  violation: string;
  /** Seeds run with the mutant until the kill. */
  ran: number;
}

export interface SimHunt {
  kill: SimKill | null;
  ran: number;
  /** Seeds that failed with the mutant but also without it (not the mutant's doing: ignored). */
  baselineFailures: number[];
}

export function scheduleRunner(protocol: MutantProtocol): ScheduleRunner {
  return protocol === 'raft' ? runRaftSchedule : runPbftSchedule;
}

/**
 * Runs the simulator with `mutant` switched on, seed after seed, until one breaks an invariant.
 * A failing seed counts only if the same seed holds without the mutant: the kill must be the
 * mutant's, not a bug (or a flaw of the simulator) that the seed finds anyway.
 */
export function huntInSim(protocol: MutantProtocol, mutant: MutantName, from: number, seeds: number): SimHunt {
  const runner = scheduleRunner(protocol);
  const baselineFailures: number[] = [];
  let ran = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    ran++;
    const mutated = runOne(runner, seed, { canary: mutant });
    if (mutated.violations.length === 0) continue;
    if (runOne(runner, seed, {}).violations.length > 0) {
      baselineFailures.push(seed);
      continue;
    }
    return { kill: { seed, violation: mutated.violations[0], ran }, ran, baselineFailures };
  }
  return { kill: null, ran, baselineFailures };
}
