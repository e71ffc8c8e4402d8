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
import { MIXED_POOL } from '@app/consensus/sim/pbft/params';
import { runPbftSchedule } from '@app/consensus/sim/pbft/run';
import { runRaftSchedule } from '@app/consensus/sim/raft/run';
import { runBatch, runOne } from '@app/consensus/sim/runner';
import type { ScheduleRunner } from '@app/consensus/sim/types';
import { intFlag, parseFlags, UsageError, usageExitCode } from '../cli';

interface Args {
  protocol: string;
  seeds: number;
  from: number;
  seed: number | null;
  canary: string | undefined;
}

const USAGE = `usage: npm run sim -- [--protocol raft|pbft] [--seeds N] [--from K] [--seed S] [--canary NAME]

  --protocol raft|pbft  the core to drive (default raft)
  --seeds N             run N seeded schedules (default 1000) ...
  --from K              ... starting at seed K (default 1)
  --seed S              replay one schedule with its trace instead
  --canary NAME         plant a known bug; the run must catch it
  -h, --help            this text

A PBFT schedule has up to f Byzantine replicas, each running one of
  ${wrap([...new Set(MIXED_POOL)].join(', '), 76, '  ')}
(twins: two copies of one replica under one key); the nemesis may switch a replica's behaviour
mid-schedule. libs/consensus/src/sim/pbft/adversary.spec.ts runs the strong adversary: f of them
in every schedule, protocol attacks only.

Exit status: 0 when every schedule held every invariant, 1 when one did not, 2 on bad usage.`;

/** Words of `text` in lines of at most `width`, each after the first prefixed with `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${indent}`);
}

const FLAGS = ['protocol', 'seeds', 'from', 'seed', 'canary'] as const;

/** The command line; throws UsageError (or HelpRequested for --help). */
function parseArgs(argv: string[]): Args {
  const v = parseFlags(argv, FLAGS);
  return {
    protocol: v.protocol ?? 'raft',
    seeds: intFlag(v, 'seeds', 1000),
    from: intFlag(v, 'from', 1),
    seed: v.seed === undefined ? null : intFlag(v, 'seed', 0),
    canary: v.canary,
  };
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

/** main() with the usage answers: --help → usage and 0, a bad command line → one line, usage and 2. */
function cli(argv: string[]): number {
  try {
    return main(argv);
  } catch (e) {
    const code = usageExitCode(e, 'sim', USAGE);
    if (code === null) throw e;
    return code;
  }
}

if (require.main === module) process.exitCode = cli(process.argv.slice(2));

export { cli as simCli, loadRunner, main as simMain, parseArgs, UsageError };
