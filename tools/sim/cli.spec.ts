import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HelpRequested } from '../cli';
import { loadRunner, parseArgs, simCli, simMain, UsageError } from './cli';

const ROOT = join(__dirname, '../..');

function capture(argv: string[]): { code: number; lines: string[] } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l !== ''),
    );
    return true;
  });
  try {
    return { code: simMain(argv), lines };
  } finally {
    spy.mockRestore();
  }
}

describe('sim CLI', () => {
  it('parses flags in both spellings', () => {
    expect(parseArgs(['--protocol', 'raft', '--seeds=20', '--from', '5', '--canary', 'forget-vote'])).toEqual({
      protocol: 'raft',
      seeds: 20,
      from: 5,
      seed: null,
      canary: 'forget-vote',
    });
    expect(parseArgs(['--seed', '1234']).seed).toBe(1234);
    expect(() => parseArgs(['--seeds', 'many'])).toThrow(UsageError);
    expect(() => parseArgs(['--bogus', '1'])).toThrow(/unknown option --bogus/);
    expect(() => parseArgs(['--seeds'])).toThrow(/--seeds needs a value/);
    expect(() => parseArgs(['raft'])).toThrow(UsageError);
    expect(() => parseArgs(['--help'])).toThrow(HelpRequested);
  });

  it('ends a clean batch with exactly "raft: N schedules, 0 violations"', () => {
    const { code, lines } = capture(['--protocol', 'raft', '--seeds', '4', '--from', '10']);
    expect(code).toBe(0);
    expect(lines[lines.length - 1]).toBe('raft: 4 schedules, 0 violations');
  });

  it('prints each failing seed with its violation and a replay command, and fails', () => {
    const { code, lines } = capture(['--protocol', 'raft', '--seeds', '3', '--canary', 'ack-on-append']);
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/^seed 1: [a-z-]+: seed=1 step=\d+ /);
    expect(lines[1]).toBe('  replay: npm run sim -- --protocol raft --seed 1 --canary ack-on-append');
    expect(lines[lines.length - 1]).toBe('raft: 3 schedules, 3 violations');
  });

  it('replays one seed with its trace', () => {
    const { code, lines } = capture(['--protocol', 'raft', '--seed', '3']);
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThan(100);
    expect(lines[0]).toMatch(/seed 3: [35] nodes/);
    expect(lines[lines.length - 1]).toBe('raft: seed 3: no violations');
  });

  it('dispatches pbft to sim/pbft/run, or says clearly that it is missing', () => {
    if (existsSync(join(ROOT, 'libs/consensus/src/sim/pbft/run.ts'))) expect(typeof loadRunner('pbft')).toBe('function');
    else expect(() => loadRunner('pbft')).toThrow(/PBFT simulator is not available: libs\/consensus\/src\/sim\/pbft\/run\.ts is missing/);
    expect(() => loadRunner('paxos')).toThrow(/unknown protocol "paxos"/);
  });

  it('--help prints the usage and exits 0; an unknown flag is one line, the usage and 2', () => {
    const out: string[] = [];
    const err: string[] = [];
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => out.push(String(c)) > 0);
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => err.push(String(c)) > 0);
    let help: number;
    let unknown: number;
    try {
      help = simCli(['--help']);
      expect(err.join('')).toBe('');
      unknown = simCli(['--protocol', 'raft', '--bogus', '1']);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    expect(help).toBe(0);
    expect(out.join('')).toMatch(/^usage: npm run sim -- .*\n(.*\n)*\s+--seeds N /);
    expect(unknown).toBe(2);
    const lines = err.join('').split('\n');
    expect(lines[0]).toBe('sim: unknown option --bogus');
    expect(lines[1]).toMatch(/^usage: npm run sim/);
    expect(err.join('')).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('runs as `npm run sim` with the documented exit codes', () => {
    const run = (args: string[]) => spawnSync('npm', ['run', '--silent', 'sim', '--', ...args], { cwd: ROOT, encoding: 'utf8' });
    const ok = run(['--protocol', 'raft', '--seeds', '2']);
    expect(ok.stdout.trim().split('\n').pop()).toBe('raft: 2 schedules, 0 violations');
    expect(ok.status).toBe(0);
    const bad = run(['--protocol', 'raft', '--seeds', '1', '--canary', 'ack-on-append']);
    expect(bad.stdout).toContain('replay: npm run sim -- --protocol raft --seed 1 --canary ack-on-append');
    expect(bad.status).toBe(1);
    const usage = run(['--protocol', 'raft', '--seeds', 'x']);
    expect(usage.stderr).toContain('usage: npm run sim');
    expect(usage.status).toBe(2);
  }, 60_000);
});
