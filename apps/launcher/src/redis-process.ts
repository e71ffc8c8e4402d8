import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { ManagedProcess } from './managed-process';
import { aclArgs, type RedisUser } from './redis-secrets';

/**
 * A redis-server owned by the launcher: AOF on, fsync policy as configured, data in its own dir,
 * restarted by the supervisor when it dies unasked (what it acknowledged is on disk: `appendfsync
 * always`), and kept down after an admin's kill until restart(). Its ACL users (`default` off) are
 * on its command line, as password hashes, so every start and restart has the same ones.
 */
export class RedisProcess {
  readonly proc: ManagedProcess;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    appendfsync: string,
    log: (line: string) => void,
    private readonly users: RedisUser[] = [],
  ) {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
      '--logfile',
      'redis.log',
      // A follower catching up receives large frames; Redis's default (32 MB hard) would cut it off.
      '--client-output-buffer-limit',
      'pubsub 512mb 256mb 60',
      ...(users.length > 0 ? aclArgs(users) : []),
    ];
    this.proc = new ManagedProcess(
      {
        name: `redis ${name}`,
        spawn: () => {
          mkdirSync(dir, { recursive: true });
          return spawn('redis-server', args, { stdio: 'ignore' });
        },
        // Fail on an early exit (e.g. the port was taken meanwhile) rather than talk to someone else's Redis.
        ready: () => waitForPort(port, 10_000),
      },
      log,
    );
  }

  /** Its address, without credentials. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Its URL for one of its users, password included (never log it: `redact`). */
  urlAs(user: string): string {
    const u = this.users.find((x) => x.name === user);
    if (!u) throw new Error(`redis ${this.name} has no user ${JSON.stringify(user)}`);
    return `redis://${encodeURIComponent(u.name)}:${encodeURIComponent(u.password)}@127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc.running;
  }

  start(): Promise<void> {
    return this.proc.start();
  }

  /** SIGKILL: what is on disk stays (and with appendfsync always, everything acknowledged is on disk). */
  kill(): Promise<void> {
    return this.proc.kill();
  }

  async restart(): Promise<void> {
    await this.proc.kill();
    await this.proc.start();
  }

  stop(): Promise<void> {
    return this.proc.stop(3000);
  }
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host });
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

/** Rejects with a clear message when `port` on `host` is taken (checked by binding it for a moment). */
export function assertPortFree(port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `${what} port ${port} on ${host} is already in use (pick another with --port or PORT)`
            : `${what} cannot bind ${host}:${port}: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

/**
 * A port the kernel will not hand to anyone else meanwhile: below its ephemeral range (where a port
 * asked for as 0, or an outgoing connection's local port, comes from), so that between choosing it
 * and the child's listen, no other process — a replica's health server on port 0, say — can take it
 * (CI once saw the gateway's port taken so). Never the same twice in this process.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.min(10_000, low - 1_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check: two calls at once must not pick the same port
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in [${floor}, ${low}) after 200 tries`);
}

const handedOut = new Set<number>();

/** The kernel's ephemeral port range (Linux); the usual one elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo > 11_000) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [32_768, 60_999];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
