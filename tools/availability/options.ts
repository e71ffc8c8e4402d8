import { choiceFlag, intFlag, parseFlags, UsageError } from '../cli';
import { KILL_TARGETS, type KillTarget } from './faults';

export interface AvailabilityOptions {
  protocol: 'raft' | 'pbft';
  /** SIGKILLs per target; the report gives their median. */
  trials: number;
  /** What to kill, in this order. */
  targets: KillTarget[];
}

export const USAGE = `usage: npm run availability -- [--protocol raft|pbft] [--trials 5] [--targets a,b,...]
  SIGKILLs one process at a time under a steady write load and prints, per target, the time from the
  kill to the next acknowledged write (median over the trials), lost acknowledged writes, and writes
  that failed while /health/ready said 200.

  --protocol raft|pbft   the cluster to start (default raft)
  --trials N             kills per target (default 5)
  --targets a,b,...      comma-separated, from: ${KILL_TARGETS.join(', ')}
                         (default: all of them)
  -h, --help             this text`;

/** The command line; throws UsageError (or HelpRequested for --help). */
export function parseAvailabilityArgs(argv: string[]): AvailabilityOptions {
  const v = parseFlags(argv, ['protocol', 'trials', 'targets']);
  return {
    protocol: choiceFlag(v, 'protocol', ['raft', 'pbft'] as const, 'raft'),
    trials: intFlag(v, 'trials', 5, 1),
    targets: v.targets === undefined ? [...KILL_TARGETS] : targetList(v.targets),
  };
}

function targetList(raw: string): KillTarget[] {
  const names = raw.split(',').map((t) => t.trim());
  if (names.some((t) => t === '')) throw new UsageError(`--targets takes comma-separated names, got "${raw}"`);
  const unknown = names.filter((t) => !(KILL_TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new UsageError(`--targets: unknown ${unknown.join(', ')} (known: ${KILL_TARGETS.join(', ')})`);
  return names as KillTarget[];
}
