import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher } from '../../apps/launcher/src/launcher';
import { parseArgs as launcherArgs } from '../../apps/launcher/src/options';
import { usageExitCode } from '../cli';
import { median } from '../stats';
import { parseAvailabilityArgs, USAGE, type AvailabilityOptions } from './options';
import { killTrial, type TrialResult } from './trial';

async function main(): Promise<void> {
  let o: AvailabilityOptions;
  try {
    o = parseAvailabilityArgs(process.argv.slice(2));
  } catch (err) {
    const code = usageExitCode(err, 'availability', USAGE);
    if (code === null) throw err;
    process.exit(code);
  }
  const dir = mkdtempSync(join(tmpdir(), 'synod-availability-'));
  const launcher = new Launcher(
    launcherArgs(['--protocol', o.protocol, '--port', '0', '--data', dir, '--cluster', `avail${process.pid}`], { ...process.env, REDIS_URL: '' }),
  );
  const lines: string[] = [];
  try {
    await launcher.start();
    const ctx = launcher.describe();
    for (const target of o.targets) {
      const results: TrialResult[] = [];
      for (let i = 0; i < o.trials; i++) {
        const r = await killTrial({ gateway: ctx.gateway, homes: ctx.homes, queue: ctx.queue }, target, `${target}-${i}`);
        results.push(r);
        process.stderr.write(
          `[availability] ${target} trial ${i + 1}/${o.trials}: ${r.what}, next ack after ${r.recoveryMs ?? 'none'} ms, ${r.acked} acked, ${r.lost.length} lost, ${r.falseReady} false-ready\n`,
        );
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
  process.exit(1);
});
