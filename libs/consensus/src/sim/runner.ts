import type { ScheduleOptions, ScheduleRunner, SeedOutcome } from './types';

export interface BatchOptions {
  from: number;
  count: number;
  canary?: string;
  /** Called every `progressEvery` schedules. */
  onProgress?: (done: number, failures: number) => void;
  progressEvery?: number;
  /** Stop at the first failing seed (canary hunts). */
  stopAtFirst?: boolean;
}

export interface BatchResult {
  ran: number;
  failures: SeedOutcome[];
}

/** Runs seeds from..from+count-1; a runner that throws counts as a failing seed, not a crashed batch. */
export function runBatch(runner: ScheduleRunner, opts: BatchOptions): BatchResult {
  const failures: SeedOutcome[] = [];
  const schedule: ScheduleOptions = { trace: false, canary: opts.canary };
  let ran = 0;
  for (let seed = opts.from; seed < opts.from + opts.count; seed++) {
    const outcome = runOne(runner, seed, schedule);
    ran++;
    if (outcome.violations.length > 0) failures.push(outcome);
    if (opts.onProgress && opts.progressEvery && ran % opts.progressEvery === 0 && ran < opts.count) {
      opts.onProgress(ran, failures.length);
    }
    if (opts.stopAtFirst && failures.length > 0) break;
  }
  return { ran, failures };
}

export function runOne(runner: ScheduleRunner, seed: number, opts: ScheduleOptions): SeedOutcome {
  try {
    return runner(seed, opts);
  } catch (e) {
    const err = e as Error;
    return { seed, violations: [`exception: seed=${seed}: ${err.stack ?? err.message}`], trace: [] };
  }
}
