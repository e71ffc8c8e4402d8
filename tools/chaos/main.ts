import 'reflect-metadata';
import { usageExitCode } from '../cli';
import { parseChaosArgs, USAGE, type ChaosOptions } from './options';
import { runChaos } from './run';

/**
 * `npm run chaos -- --protocol raft|pbft [--clients 8] [--duration 60] [--seed S] [--canary stale-reads] [--out DIR]`
 * (`--help` for every option). Prints one summary line; exit 0 only when the history is
 * linearizable, no acknowledged write was lost, the replicas converged and no status outside the
 * contract came back (a canary run: only when its violation was caught). Progress goes to stderr.
 */
async function main(): Promise<void> {
  let o: ChaosOptions;
  try {
    o = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    const code = usageExitCode(err, 'chaos', USAGE);
    if (code === null) throw err;
    process.exit(code);
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
  if (o.canary === 'stale-reads' && o.protocol === 'pbft') {
    log('note: the PBFT gateway orders every read (f+1 matching replies), whatever consistency asks: a stale-reads canary cannot fire there');
  }
  // A hung run must not hold the machine: the workload, the finale and the check get this long.
  const watchdog = setTimeout(
    () => {
      log('run did not finish in time; giving up');
      process.exit(3);
    },
    (o.duration + 600) * 1000,
  );
  watchdog.unref();
  const r = await runChaos(o, log);
  if (r.faultErrors.length > 0) log(`admin errors during the run:\n  ${r.faultErrors.join('\n  ')}`);
  for (const u of r.unexpected.slice(0, 10)) log(`unexpected status ${u.status} for op ${u.op} (${u.kind} ${u.key}): ${JSON.stringify(u.body)}`);
  if (r.check.violations > 0) log(`violations: see ${o.outDir}/violation.json`);
  process.stdout.write(`${r.summary}\n`);
  process.exit(r.passed ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`chaos failed: ${err?.stack ?? err}\n`);
  process.exit(4);
});
