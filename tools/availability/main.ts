import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Launcher } from '../../apps/launcher/src/launcher';
import { parseArgs as launcherArgs } from '../../apps/launcher/src/options';
import { KILL_TARGETS, type KillTarget } from './faults';
import { killTrial, type TrialResult } from './trial';

const USAGE = `usage: npm run availability -- [--protocol raft|pbft] [--trials N] [--targets a,b,...]
  SIGKILLs one process at a time under a steady write load and prints, per target, the time from the
  kill to the next acknowledged write (median over the trials), lost acknowledged writes, and writes
  that failed while /health/ready said 200.
  targets: ${KILL_TARGETS.join(', ')}`;

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function options(): { protocol: 'raft' | 'pbft'; trials: number; targets: KillTarget[] } {
  const { values } = parseArgs({
    options: {
      protocol: { type: 'string', default: 'raft' },
      trials: { type: 'string', default: '5' },
      targets: { type: 'string', default: KILL_TARGETS.join(',') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const protocol = values.protocol;
  const trials = Number(values.trials);
  const targets = values.targets.split(',') as KillTarget[];
  const bad = [
    protocol !== 'raft' && protocol !== 'pbft' ? `--protocol must be raft or pbft, got ${protocol}` : '',
    !Number.isInteger(trials) || trials < 1 ? `--trials must be a positive integer, got ${values.trials}` : '',
    ...targets.filter((t) => !KILL_TARGETS.includes(t)).map((t) => `unknown target ${t}`),
  ].filter(Boolean);
  if (bad.length > 0) throw new Error(`${bad.join('; ')}\n${USAGE}`);
  return { protocol: protocol as 'raft' | 'pbft', trials, targets };
}

async function main(): Promise<void> {
  const o = options();
  const dir = mkdtempSync(join(tmpdir(), 'synod-availability-'));
  const launcher = new Launcher(launcherArgs(['--protocol', o.protocol, '--port', '0', '--data', dir, '--cluster', `avail${process.pid}`], { ...process.env, REDIS_URL: '' }));
  const lines: string[] = [];
  try {
    await launcher.start();
    const ctx = launcher.describe();
    for (const target of o.targets) {
      const results: TrialResult[] = [];
      for (let i = 0; i < o.trials; i++) {
        const r = await killTrial({ gateway: ctx.gateway, homes: ctx.homes, queue: ctx.queue }, target, `${target}-${i}`);
        results.push(r);
        process.stderr.write(`[availability] ${target} trial ${i + 1}/${o.trials}: ${r.what}, next ack after ${r.recoveryMs ?? 'none'} ms, ${r.acked} acked, ${r.lost.length} lost, ${r.falseReady} false-ready\n`);
      }
      const times = results.map((r) => r.recoveryMs ?? Infinity);
      lines.push(
        `${o.protocol} ${target.padEnd(16)} next ack: median ${median(times)} ms [${times.join(', ')}]; ` +
          `acked ${results.reduce((s, r) => s + r.acked, 0)}, lost ${results.reduce((s, r) => s + r.lost.length, 0)}, false-ready ${results.reduce((s, r) => s + r.falseReady, 0)}`,
      );
    }
  } finally {
    await launcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\navailability after a single-process SIGKILL (${new Date().toISOString()}, ${o.trials} trials each)\n${lines.join('\n')}\n`);
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`availability: ${err.message}\n`);
  process.exit(err.message.includes('usage:') ? 2 : 1);
});
