/**
 * The simulator's command line.
 *
 *   npm run sim -- --protocol raft --seeds 2000 [--from K] [--canary NAME]
 *   npm run sim -- --protocol raft --seed 1234 [--canary NAME]      (replay one schedule with its trace)
 *   npm run sim -- --protocol pbft ...
 *
 * Exit status: 0 when every schedule held every invariant, 1 when one did not, 2 on bad usage.
 * It lives outside libs/consensus because it reads the wall clock (for progress lines).
 */
import { runPbftSchedule } from '@app/consensus/sim/pbft/run';
import { runRaftSchedule } from '@app/consensus/sim/raft/run';
import { runBatch, runOne } from '@app/consensus/sim/runner';
import type { ScheduleRunner } from '@app/consensus/sim/types';

interface Args {
  protocol: string;
  seeds: number;
  from: number;
  seed: number | null;
  canary: string | undefined;
}

class UsageError extends Error {}

const USAGE = 'usage: npm run sim -- --protocol raft|pbft [--seeds N] [--from K] [--seed S] [--canary NAME]';

function parseArgs(argv: string[]): Args {
  const args: Args = { protocol: 'raft', seeds: 1000, from: 1, seed: null, canary: undefined };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    } else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    const int = (): number => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} takes a non-negative integer, got "${value}"`);
      return n;
    };
    switch (flag) {
      case '--protocol':
        args.protocol = value;
        break;
      case '--seeds':
        args.seeds = int();
        break;
      case '--from':
        args.from = int();
        break;
      case '--seed':
        args.seed = int();
        break;
      case '--canary':
        args.canary = value;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return args;
}

function loadRunner(protocol: string): ScheduleRunner {
  if (protocol === 'raft') return runRaftSchedule;
  if (protocol === 'pbft') return runPbftSchedule;
  throw new UsageError(`unknown protocol "${protocol}" (raft or pbft)`);
}

function replayCommand(a: Args, seed: number): string {
  return `npm run sim -- --protocol ${a.protocol} --seed ${seed}${a.canary ? ` --canary ${a.canary}` : ''}`;
}

function main(argv: string[]): number {
  const a = parseArgs(argv);
  const runner = loadRunner(a.protocol);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);

  if (a.seed !== null) {
    const outcome = runOne(runner, a.seed, { trace: true, canary: a.canary });
    for (const line of outcome.trace) out(line);
    if (outcome.violations.length === 0) {
      out(`${a.protocol}: seed ${a.seed}: no violations`);
      return 0;
    }
    for (const v of outcome.violations) out(`VIOLATION ${v}`);
    return 1;
  }

  const started = Date.now();
  const { ran, failures } = runBatch(runner, {
    from: a.from,
    count: a.seeds,
    canary: a.canary,
    progressEvery: Math.max(100, Math.ceil(a.seeds / 10 / 100) * 100),
    onProgress: (done, failed) => out(`${a.protocol}: ${done}/${a.seeds} schedules, ${failed} failing (${((Date.now() - started) / 1000).toFixed(1)} s)`),
  });
  for (const f of failures) {
    out(`seed ${f.seed}: ${f.violations[0]}`);
    out(`  replay: ${replayCommand(a, f.seed)}`);
  }
  out(`${a.protocol}: ${ran} schedules, ${failures.length} violations`);
  return failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`sim: ${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
  }
}

export { loadRunner, main as simMain, parseArgs, UsageError };
