import type { ScheduleRunner } from '../types';
import { raftCanary } from './canaries';
import { RaftSim } from './cluster';

/** One seeded Raft schedule: the seed decides the cluster, the faults, the clients and every delay. */
export const runRaftSchedule: ScheduleRunner = (seed, opts) => {
  const canary = opts.canary ? raftCanary(opts.canary) : {};
  const { violations, trace } = new RaftSim({ seed, trace: opts.trace, faults: canary.faults, runtimeFault: canary.runtime }).run();
  return { seed, violations, trace };
};
