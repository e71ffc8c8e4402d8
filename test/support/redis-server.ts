import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

/** A private redis-server for one test: free port, own data dir, AOF on. Never 6379. */
export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  /** SIGKILL the server (data on disk stays). */
  kill(): Promise<void>;
  /** Start it again on the same port and dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Who may log in, when the server has ACL users (`args` with `--user ...`). */
export interface RedisLogin {
  username: string;
  password: string;
}

async function waitReady(port: number, login?: RedisLogin, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', ...login, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined); // refused while the server boots: expected
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      if (c.status !== 'end') c.disconnect();
    }
  }
}

/** `args` are extra redis-server arguments (e.g. ACL users); `login` is how to check it is up. */
export async function startRedis(opts: { appendfsync?: 'always' | 'everysec' | 'no'; args?: string[]; login?: RedisLogin } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'synod-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    opts.appendfsync ?? 'always',
    '--maxmemory-policy',
    'noeviction',
    '--loglevel',
    'warning',
    ...(opts.args ?? []),
  ];
  const launch = (): ChildProcess => spawn('redis-server', args, { stdio: 'ignore' });
  const handle: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    process: launch(),
    async kill() {
      const p = handle.process;
      if (p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGKILL');
      });
    },
    async restart() {
      await handle.kill();
      handle.process = launch();
      await waitReady(port, opts.login);
    },
    async stop() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitReady(port, opts.login);
  return handle;
}
