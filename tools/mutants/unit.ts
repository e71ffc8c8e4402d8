import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MutantName, MutantProtocol } from '@app/consensus/mutants';

const ROOT = join(__dirname, '../..');

/** Each protocol's unit specs: the core's own directory (the simulator's specs are the hunt's job). */
export const UNIT_SPECS: Record<MutantProtocol, string> = {
  raft: 'libs/consensus/src/raft/',
  pbft: 'libs/consensus/src/pbft/',
};

export interface UnitRun {
  /** Every suite ran and every test passed. */
  passed: boolean;
  /** "file › test name" of the failing tests: what kills a mutant. */
  failures: string[];
  /** Suites that did not run at all, or why jest reported nothing: no verdict on a mutant. */
  errors: string[];
  total: number;
  seconds: number;
}

interface JestJson {
  numTotalTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: { name: string; message: string; assertionResults: { fullName: string; status: string }[] }[];
}

/**
 * The protocol's unit specs in a child jest with SYNOD_MUTANT=<mutant> (the unit project's setup
 * switches it on before any spec runs; null: no mutant, the baseline).
 */
export function runUnitTests(protocol: MutantProtocol, mutant: MutantName | null, maxWorkers = 2): UnitRun {
  const dir = mkdtempSync(join(tmpdir(), 'synod-mutants-'));
  const out = join(dir, 'jest.json');
  const started = Date.now();
  try {
    const args = [
      require.resolve('jest/bin/jest'),
      '--selectProjects',
      'unit',
      '--testPathPatterns',
      UNIT_SPECS[protocol],
      `--maxWorkers=${maxWorkers}`,
      '--json',
      '--outputFile',
      out,
    ];
    const env = { ...process.env, SYNOD_MUTANT: mutant ?? '' };
    const child = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const seconds = (Date.now() - started) / 1000;
    let report: JestJson;
    try {
      report = JSON.parse(readFileSync(out, 'utf8')) as JestJson;
    } catch {
      const why = (child.stderr || child.stdout || `exit ${child.status}`).trim().split('\n').slice(-3).join(' | ');
      return { passed: false, failures: [], errors: [`jest did not report: ${why}`], total: 0, seconds };
    }
    const failures: string[] = [];
    const errors: string[] = [];
    for (const file of report.testResults) {
      const rel = file.name.startsWith(ROOT) ? file.name.slice(ROOT.length + 1) : file.name;
      const failed = file.assertionResults.filter((a) => a.status === 'failed');
      for (const a of failed) failures.push(`${rel} › ${a.fullName}`);
      // A suite that failed to run at all (a file that does not compile, say) has no failed assertions.
      if (failed.length === 0 && file.message) errors.push(`${rel}: ${firstLines(file.message)}`);
    }
    return { passed: failures.length === 0 && errors.length === 0 && child.status === 0, failures, errors, total: report.numTotalTests, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The gist of a jest message: its first lines that say something. */
function firstLines(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('●'))
    .slice(0, 2)
    .join(' | ');
}
