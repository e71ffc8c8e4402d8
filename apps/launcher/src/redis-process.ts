import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';

/** A redis-server owned by the launcher: AOF on, fsync policy as configured, data in its own dir. */
export class RedisProcess {
  private child: ChildProcess | null = null;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    private readonly appendfsync: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.child = spawn(
      'redis-server',
      [
        '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
        '--appendonly', 'yes', '--appendfsync', this.appendfsync, '--save', '',
        '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--logfile', 'redis.log',
        // A follower catching up receives large frames; Redis's default (32 MB hard) would cut it off.
        '--client-output-buffer-limit', 'pubsub 512mb 256mb 60',
      ],
      { stdio: 'ignore' },
    );
    const child = this.child;
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`redis-server ${this.name}: ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`redis-server ${this.name} exited (${code}) at start; see ${this.dir}/redis.log`)));
    });
    exited.catch(() => undefined);
    // Fail on an early exit (e.g. the port was taken meanwhile) rather than talk to someone else's Redis.
    await Promise.race([waitForPort(this.port, 10_000), exited]);
  }

  /** SIGKILL: what is on disk stays (and with appendfsync always, everything acknowledged is on disk). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
