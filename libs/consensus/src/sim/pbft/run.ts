import { withMutants } from '../../mutants';
import type { ScheduleRunner } from '../types';
import { pbftCanary } from './canaries';
import { PbftSim } from './cluster';

/** One seeded PBFT schedule: the seed decides the cluster, the Byzantine replicas, the faults, the clients and every delay. */
export const runPbftSchedule: ScheduleRunner = (seed, opts) => {
  const mutant = opts.canary ? pbftCanary(opts.canary) : null;
  const { violations, trace } = withMutants(mutant ? [mutant] : [], () => new PbftSim({ seed, trace: opts.trace }).run());
  if (mutant && opts.trace) trace.unshift(`mutant ${mutant}`);
  return { seed, violations, trace };
};
