import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CpuRow } from './cpu';
import { flameGraphSvg } from './flame-graph';
import { profileLines, summarizeProfile, type CpuProfile } from './profile-summary';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `--profile DIR`: V8 CPU profiles of every replica and gateway process during a phase
 * (profiler-preload.ts runs in each, started and stopped through files in DIR), saved there as
 * .cpuprofile files and summarised process by process.
 */
export class PhaseProfiler {
  readonly dir: string;

  /** Must run before the cluster starts: its processes inherit this environment from the launcher. */
  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true });
    process.env.SYNOD_PROFILE_DIR = this.dir;
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'profiler-preload.js')}`.trim();
  }

  start(phase: string): void {
    rmSync(join(this.dir, 'STOP'), { force: true });
    writeFileSync(join(this.dir, 'START'), phase);
  }

  /** Stops the profilers and waits for their files (until no new one came for a second, 15 s at most). */
  async stop(phase: string): Promise<string[]> {
    writeFileSync(join(this.dir, 'STOP'), '');
    const files = () => readdirSync(this.dir).filter((f) => f.startsWith(`${phase}-`) && f.endsWith('.cpuprofile'));
    let seen = -1;
    for (let waited = 0; waited < 15_000; waited += 1000) {
      await sleep(1000);
      const n = files().length;
      if (n > 0 && n === seen) break;
      seen = n;
    }
    rmSync(join(this.dir, 'START'), { force: true });
    return files().map((f) => join(this.dir, f));
  }

  /**
   * A summary per process, with CPU per operation where the phase's CPU sampler saw the process,
   * and a flame graph of each beside its profile (<name>.svg).
   */
  static report(files: string[], cpu: CpuRow[], ratePerSecond: number): string[] {
    const lines: string[] = [];
    for (const file of files.sort()) {
      const name = /-(replica-[^/]+|gateway-\d+|process-\d+)\.cpuprofile$/.exec(file)?.[1] ?? file;
      const row = cpu.find((r) => r.label === name.replace('-', ' '));
      const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
      lines.push(...profileLines(name, summarizeProfile(profile), row?.cpu ?? null, ratePerSecond));
      const title = `${basename(file, '.cpuprofile')}: ${ratePerSecond.toFixed(0)} ops/s${row ? `, ${(row.cpu * 100).toFixed(0)}% of a core` : ''}`;
      writeFileSync(file.replace(/\.cpuprofile$/, '.svg'), flameGraphSvg(profile, title));
    }
    return lines;
  }
}
