import type { JobsOptions } from 'bullmq';

/** The scenario steps' queue, under the cluster's BullMQ prefix (commands.queue.ts: queuePrefix) beside `commands`. */
export const SCENARIOS_QUEUE = 'scenarios';

/** A step of a run, or the run's end (its closing heal-all). The step itself is read from the run's hash. */
export type ScenarioJobData = { kind: 'step'; run: string; index: number } | { kind: 'end'; run: string };

/** Job ids a cancel can find again to remove (BullMQ ids may not contain ':'). */
export const stepJobId = (run: string, index: number): string => `${run}-${index}`;
export const endJobId = (run: string): string => `${run}-end`;

/**
 * One attempt: a fault retried later would land at the wrong time, so a failing step is recorded
 * as failed (the runner never throws for it) and never retried.
 */
export const SCENARIO_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
};
