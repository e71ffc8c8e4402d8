/**
 * Mutation testing of the cores (issue 10).
 *
 *   npm run mutants -- [--protocol raft|pbft|all] [--seeds N] [--only NAME,NAME] [--sample K] [--skip-unit]
 *
 * For each mutant of libs/consensus/src/mutants.ts (one safety or validation rule switched off):
 * the simulator with the mutant on, seed after seed until an invariant breaks (killed); if none
 * does, the protocol's unit specs in a child jest with SYNOD_MUTANT=<name> (killed if a test
 * fails); else SURVIVED. One line per mutant, then the score per protocol. It lives outside
 * libs/consensus because it reads the clock and spawns processes.
 */
import { describeMutant, type MutantName, type MutantProtocol } from '@app/consensus/mutants';
import { UsageError, usageExitCode } from '../cli';
import { parseArgs, USAGE, type MutantsOptions } from './options';
import { selectMutants } from './select';
import { huntInSim } from './sim-hunt';
import { runUnitTests } from './unit';

export type Verdict =
  | { mutant: MutantName; killed: true; by: 'sim'; seed: number; violation: string }
  | { mutant: MutantName; killed: true; by: 'unit'; test: string }
  | { mutant: MutantName; killed: false; error?: string };

/** The first line of a violation, cut at 160 characters. */
function shortViolation(v: string): string {
  const line = v.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

export function verdictLine(v: Verdict, protocol: MutantProtocol, seconds: number): string {
  const t = `(${seconds.toFixed(1)} s)`;
  if (!v.killed && v.error !== undefined) return `ERROR    ${v.mutant} ${t}: no verdict, the unit specs did not run: ${v.error}`;
  if (!v.killed) return `SURVIVED ${v.mutant} ${t}: ${describeMutant(v.mutant)}`;
  if (v.by === 'sim')
    return `killed   ${v.mutant} by sim seed ${v.seed} ${t}: ${shortViolation(v.violation)}\n         replay: npm run sim -- --protocol ${protocol} --seed ${v.seed} --canary ${v.mutant}`;
  return `killed   ${v.mutant} by unit test ${t}: ${v.test}`;
}

function main(argv: string[]): number {
  const o: MutantsOptions = parseArgs(argv);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const scores: string[] = [];
  let survivors = 0;
  for (const protocol of o.protocols) {
    const mutants = selectMutants(protocol, o.only, o.sample);
    if (mutants.length === 0) continue;
    if (!o.skipUnit) {
      // Without this, a spec that fails anyway would "kill" every mutant.
      const base = runUnitTests(protocol, null);
      if (!base.passed) {
        out(`${protocol}: the unit specs fail without any mutant; fix them first:`);
        for (const f of [...base.failures, ...base.errors]) out(`  ${f}`);
        return 2;
      }
      out(
        `${protocol}: baseline ${base.total} unit tests pass (${base.seconds.toFixed(1)} s); ${mutants.length} mutants, up to ${o.seeds} seeds each from ${o.from}`,
      );
    } else out(`${protocol}: ${mutants.length} mutants, up to ${o.seeds} seeds each from ${o.from}, simulator only`);
    let killed = 0;
    for (const mutant of mutants) {
      const started = Date.now();
      const hunt = huntInSim(protocol, mutant, o.from, o.seeds);
      let verdict: Verdict;
      if (hunt.kill !== null) verdict = { mutant, killed: true, by: 'sim', seed: hunt.kill.seed, violation: hunt.kill.violation };
      else if (!o.skipUnit) {
        const unit = runUnitTests(protocol, mutant);
        if (unit.failures.length > 0) verdict = { mutant, killed: true, by: 'unit', test: unit.failures[0] };
        else if (!unit.passed) verdict = { mutant, killed: false, error: unit.errors[0] ?? 'jest failed' };
        else verdict = { mutant, killed: false };
      } else verdict = { mutant, killed: false };
      if (verdict.killed) killed++;
      out(verdictLine(verdict, protocol, (Date.now() - started) / 1000));
      if (hunt.baselineFailures.length > 0) out(`         note: seeds ${hunt.baselineFailures.join(', ')} fail without the mutant too (not counted)`);
    }
    survivors += mutants.length - killed;
    scores.push(`${protocol}: ${killed}/${mutants.length} mutants killed (${((100 * killed) / mutants.length).toFixed(1)}%)`);
  }
  for (const s of scores) out(s);
  return survivors === 0 ? 0 : 1;
}

/** main() with the usage answers: --help → usage and 0, a bad command line → one line, usage and 2. */
function cli(argv: string[]): number {
  try {
    return main(argv);
  } catch (e) {
    const code = usageExitCode(e, 'mutants', USAGE);
    if (code === null) throw e;
    return code;
  }
}

if (require.main === module) process.exitCode = cli(process.argv.slice(2));

export { cli as mutantsCli, main as mutantsMain, UsageError };
