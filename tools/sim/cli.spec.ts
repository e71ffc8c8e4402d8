import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRunner, parseArgs, simMain, UsageError } from './cli';

const ROOT = join(__dirname, '../..');

function capture(argv: string[]): { code: number; lines: string[] } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
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
    expect(() => parseArgs(['--seeds'])).toThrow(/needs a value/);
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
