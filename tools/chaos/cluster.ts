import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Protocol } from './options';
import type { ClusterInfo } from '../../apps/launcher/src/launcher';
import { withRedisCredentials } from '../../apps/launcher/src/redis-secrets';

/** dist/apps/launcher/src/main.js, whether this file runs from dist/ or from the sources. */
function launcherMain(): string {
  const fromDist = join(__dirname, '..', '..', 'apps', 'launcher', 'src', 'main.js');
  if (existsSync(fromDist)) return fromDist;
  return join(__dirname, '..', '..', 'dist', 'apps', 'launcher', 'src', 'main.js');
}

/**
 * A fresh local cluster run by the launcher as a child process (`npm start`'s code path), its
 * output (every replica's and the gateway's) kept in a log file rather than mixed with the report.
 * Faults go through the gateway's admin API only (kill, hard kill, storage kill, isolate...).
 */
export class ChaosCluster {
  info!: ClusterInfo;
  private child: ChildProcess | null = null;
  private log: WriteStream | null = null;
  private readonly dataDir: string;

  constructor(
    private readonly protocol: Protocol,
    private readonly outDir: string,
    private readonly gatewayTimeoutMs: number | null = null,
  ) {
    this.dataDir = join(outDir, 'data');
  }

  async start(): Promise<void> {
    mkdirSync(this.outDir, { recursive: true });
    this.log = createWriteStream(join(this.outDir, 'cluster.log'));
    const args = [launcherMain(), '--protocol', this.protocol, '--port', '0', '--data', this.dataDir, '--fresh', '--cluster', `chaos${process.pid}`];
    if (this.gatewayTimeoutMs !== null) args.push('--gateway-env', `REQUEST_TIMEOUT_MS=${this.gatewayTimeoutMs}`);
    const child = spawn(process.execPath, args, { env: { ...process.env, REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // If this process dies without stop(), the launcher still takes its cluster down with it.
    process.once('exit', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    });
    let head = '';
    let ready = false;
    this.info = await new Promise<ClusterInfo>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the cluster did not start within 60 s; see ${join(this.outDir, 'cluster.log')}`)), 60_000);
      const onData = (d: Buffer): void => {
        this.log?.write(d);
        if (ready) return;
        head += d.toString();
        const m = /SYNOD_READY (.*)\n/.exec(head);
        if (m) {
          clearTimeout(t);
          ready = true;
          head = '';
          // Its Redis URLs are redacted: put the passwords back from the key directory.
          resolve(withRedisCredentials(JSON.parse(m[1]) as ClusterInfo));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`the launcher exited with ${code}; see ${join(this.outDir, 'cluster.log')}`));
      });
    });
  }

  get url(): string {
    return this.info.gateway;
  }

  get nodeIds(): string[] {
    return this.info.nodes.map((n) => n.id);
  }

  /** A note in the cluster log, so faults line up with what the replicas printed. */
  note(line: string): void {
    this.log?.write(`[chaos ${new Date().toISOString()}] ${line}\n`);
  }

  async stop(keepData = false): Promise<void> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
        c.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        c.kill('SIGINT');
      });
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    if (!keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
