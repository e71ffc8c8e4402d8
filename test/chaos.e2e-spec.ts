import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHAOS = join(__dirname, '..', 'dist', 'tools', 'chaos', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  result: any;
  outDir: string;
}

/** The chaos tool as a user runs it (a fresh cluster of its own), its result.json read back. */
function chaos(args: string[]): Promise<Run> {
  const outDir = mkdtempSync(join(tmpdir(), 'synod-chaos-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHAOS, ...args, '--out', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const file = join(outDir, 'result.json');
      const result = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
      resolve({ code, stdout, stderr, result, outDir });
    });
  });
}

function cleanup(run: Run | undefined): void {
  if (run) rmSync(run.outDir, { recursive: true, force: true });
}

/** The summary line, or why there is none: what a failed assertion should show. */
const shown = (r: Run) => r.result?.summary ?? `exit ${r.code}, no result.json\n${r.stderr.slice(-3000)}`;

/**
 * Short Jepsen-style runs against the real cluster: concurrent clients under kills, hard kills,
 * isolation, storage-Redis SIGKILLs (and Byzantine replicas for PBFT), then the history checked
 * for linearizability, every acknowledged write read back, the replicas compared, and one watch
 * over the whole run checked against the history.
 */
describe('chaos: linearizable histories and no lost writes under faults', () => {
  for (const protocol of ['raft', 'pbft'] as const) {
    it(`${protocol}: 18 s of faults, 4 clients`, async () => {
      const run = await chaos(['--protocol', protocol, '--clients', '4', '--duration', '18', '--seed', '7']);
      try {
        expect(shown(run)).toMatch(/linearizable: yes, acknowledged writes lost: 0 of [1-9]\d*, converged: yes/);
        expect(run.code).toBe(0);
        const r = run.result;
        expect(r.passed).toBe(true);
        expect(r.unexpected).toEqual([]);
        expect(r.ops.ok).toBeGreaterThan(200);
        expect(r.check.incomplete).toBe(false);
        // One watch over the run saw every change once, in order (tools/chaos/watch-check.ts).
        expect(r.watch.problems).toEqual([]);
        expect(r.watch.events).toBeGreaterThan(100);
        // After the faults, every replica's hash chain checks out against its storage, and they agree.
        expect(r.ledger).toMatchObject({ ok: true, agree: true, broken: [] });
        const faults = Object.values(r.faults as Record<string, number>).reduce((a, b) => a + b, 0);
        expect(faults).toBeGreaterThanOrEqual(2);
        expect(existsSync(join(run.outDir, 'history.json'))).toBe(true);
        expect(existsSync(join(run.outDir, 'violation.json'))).toBe(false);
      } finally {
        cleanup(run);
      }
    }, 150_000);
  }

  it('raft with a 300 ms gateway deadline: 503 only for what was not applied, 504 for the rest', async () => {
    // Failovers outlast the deadline, so answers are failed or indeterminate; a 503 for a write
    // that was applied (a leader abandoning logged proposals) is a violation the checker catches.
    const run = await chaos(['--protocol', 'raft', '--clients', '4', '--duration', '15', '--seed', '11', '--gateway-timeout-ms', '300']);
    try {
      expect(shown(run)).toMatch(/linearizable: yes, acknowledged writes lost: 0 of [1-9]\d*, converged: yes/);
      expect(run.code).toBe(0);
      expect(run.result.unexpected).toEqual([]);
    } finally {
      cleanup(run);
    }
  }, 150_000);

  it('raft stale-reads canary: stale reads from an isolated replica are reported as not linearizable', async () => {
    const run = await chaos(['--protocol', 'raft', '--clients', '4', '--duration', '15', '--seed', '7', '--canary', 'stale-reads']);
    try {
      expect(shown(run)).toMatch(/linearizable: no .*canary caught/);
      expect(run.code).toBe(0);
      expect(run.result.linearizable).toBe(false);
      expect(run.result.durability.lost).toEqual([]);
      const violations = JSON.parse(readFileSync(join(run.outDir, 'violation.json'), 'utf8'));
      expect(violations.length).toBeGreaterThan(0);
      // The minimal window holds a stale read, made while a replica was isolated.
      expect(violations[0].ops.some((o: any) => o.kind === 'get' && o.consistency === 'stale')).toBe(true);
      expect(violations[0].faults.some((f: any) => f.kind === 'isolate')).toBe(true);
    } finally {
      cleanup(run);
    }
  }, 150_000);
});
