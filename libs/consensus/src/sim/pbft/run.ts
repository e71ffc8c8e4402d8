import type { ScheduleRunner } from '../types';
import { pbftCanary } from './canaries';
import { PbftSim } from './cluster';

/** One seeded PBFT schedule: the seed decides the cluster, the Byzantine replicas, the faults, the clients and every delay. */
export const runPbftSchedule: ScheduleRunner = (seed, opts) => {
  const faults = opts.canary ? pbftCanary(opts.canary) : undefined;
  const { violations, trace } = new PbftSim({ seed, trace: opts.trace, faults }).run();
  return { seed, violations, trace };
};
