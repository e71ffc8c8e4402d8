import { withMutants } from '../../mutants';
import type { ScheduleRunner } from '../types';
import { raftCanary } from './canaries';
import { RaftSim } from './cluster';

/** One seeded Raft schedule: the seed decides the cluster, the faults, the clients and every delay. */
export const runRaftSchedule: ScheduleRunner = (seed, opts) => {
  const canary = opts.canary ? raftCanary(opts.canary) : {};
  const { violations, trace } = withMutants(canary.mutant ? [canary.mutant] : [], () =>
    new RaftSim({ seed, trace: opts.trace, runtimeFault: canary.runtime }).run(),
  );
  if (canary.mutant && opts.trace) trace.unshift(`mutant ${canary.mutant}`);
  return { seed, violations, trace };
};
