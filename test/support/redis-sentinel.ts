import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './redis-server';

/**
 * A private Redis Sentinel set-up for one test, on free ports (never 6379): a master, one replica
 * (`--replicaof`), and three sentinels (quorum 2) that fail over one second after the master stops
 * answering. Each process has its own temp dir; a sentinel rewrites its config file, so each gets one.
 */
export interface TestSentinel {
  /** the master name the sentinels monitor */
  name: string;
  /** redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,127.0.0.1:<s3>/<name> */
  url: string;
  sentinelPorts: number[];
  /** the data nodes' ports: [initial master, initial replica] */
  dataPorts: number[];
  /** The master's port as the first sentinel that answers reports it. */
  masterPort(): Promise<number>;
  /** SIGKILL the process of the current master; resolves with its port once it is gone. */
  killMaster(): Promise<number>;
  /**
   * SIGSTOP the process of the current master: its sockets stay open but nothing answers, as with a
   * frozen host or a network partition that sends no reset. Resolves with its port.
   */
  freezeMaster(): Promise<number>;
  /** Kill everything and remove the temp dirs. */
  stop(): Promise<void>;
}

/** Why `redis-server --sentinel` cannot run here, or null when it can (asked synchronously, for describe.skip). */
export function sentinelUnavailable(): string | null {
  // Without a config file a sentinel refuses to start and says why: that answer proves the mode exists.
  const r = spawnSync('redis-server', ['--sentinel'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return `redis-server cannot run (${r.error.message})`;
  const out = `${r.stdout}${r.stderr}`;
  return /sentinel needs config file/i.test(out) ? null : `redis-server has no sentinel mode (it said: ${out.trim().slice(-200)})`;
}

const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 5000;
const SETUP_TIMEOUT_MS = 15_000;

interface Proc {
  port: number;
  dir: string;
  process: ChildProcess;
}

/** A process that exited during the set-up: most likely its free port was taken meanwhile. */
class Exited extends Error {}

export async function startSentinel(opts: { name?: string } = {}): Promise<TestSentinel> {
  const name = opts.name ?? `synod-${process.pid}`;
  // freePort() only says a port was free a moment ago; other tests on this machine take ports too.
  for (let attempt = 1; ; attempt++) {
    try {
      return await trySetUp(name);
    } catch (err) {
      if (!(err instanceof Exited) || attempt === 3) throw err;
    }
  }
}

async function trySetUp(name: string): Promise<TestSentinel> {
  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => kill(p.process)));
    for (const p of procs) rmSync(p.dir, { recursive: true, force: true });
  };
  try {
    const master = launchData(await freePort(), []);
    procs.push(master);
    const replica = launchData(await freePort(), ['--replicaof', '127.0.0.1', String(master.port)]);
    procs.push(replica);
    await started(master);
    await started(replica);
    await waitUntil(`replica on ${replica.port} in sync`, replica, async (c) => /master_link_status:up/.test(await c.info('replication')));

    const sentinels: Proc[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'synod-sentinel-'));
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${join(dir, 'sentinel.log')}`,
          `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${name} ${FAILOVER_TIMEOUT_MS}`,
          '',
        ].join('\n'),
      );
      const s = { port, dir, process: spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }) };
      procs.push(s);
      sentinels.push(s);
    }
    for (const s of sentinels) await started(s);
    // A failover needs each sentinel to know the replica (from the master's INFO) and its two peers
    // (from hello messages, every 2 s): only then can they agree the master is down and elect a leader.
    await Promise.all(
      sentinels.map((s) =>
        waitUntil(`sentinel on ${s.port} sees the replica and its peers`, s, async (c) => {
          const m = fields((await c.call('SENTINEL', 'MASTER', name)) as string[]);
          return m['num-slaves'] === '1' && m['num-other-sentinels'] === '2';
        }),
      ),
    );

    const sentinelPorts = sentinels.map((s) => s.port);
    const masterPort = async (): Promise<number> => {
      for (const port of sentinelPorts) {
        const c = client(port);
        try {
          await c.connect();
          const addr = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
          if (addr) return Number(addr[1]);
        } catch {
          // that sentinel is not answering: ask the next
        } finally {
          c.disconnect();
        }
      }
      throw new Error('no sentinel knows the master');
    };
    const current = async (): Promise<Proc> => {
      const port = await masterPort();
      const p = procs.find((x) => x.port === port);
      if (!p) throw new Error(`the master's port ${port} is none of ours`);
      return p;
    };
    return {
      name,
      url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${name}`,
      sentinelPorts,
      dataPorts: [master.port, replica.port],
      masterPort,
      async killMaster() {
        const p = await current();
        await kill(p.process);
        return p.port;
      },
      async freezeMaster() {
        const p = await current();
        p.process.kill('SIGSTOP');
        return p.port;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function launchData(port: number, extra: string[]): Proc {
  const dir = mkdtempSync(join(tmpdir(), 'synod-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...extra];
  return { port, dir, process: spawn('redis-server', args, { stdio: 'ignore' }) };
}

function client(port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  c.on('error', () => undefined); // refused while the process boots: expected
  return c;
}

/** Our process answers on its port (and not some other process that took the port first). */
function started(p: Proc): Promise<void> {
  return waitUntil(`redis-server on ${p.port}`, p, async (c) => (await c.info('server')).includes(`process_id:${p.process.pid}\r\n`));
}

async function waitUntil(what: string, p: Proc, cond: (c: Redis) => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SETUP_TIMEOUT_MS;
  for (;;) {
    if (p.process.exitCode !== null || p.process.signalCode !== null) throw new Exited(`redis-server on ${p.port} exited while waiting for ${what}`);
    const c = client(p.port);
    try {
      await c.connect();
      if (await cond(c)) return;
    } catch {
      // not up yet
    } finally {
      c.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** [k1, v1, k2, v2, ...] -> {k1: v1, ...}: how SENTINEL MASTER answers. */
function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

async function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((r) => {
    p.once('exit', () => r());
    p.kill('SIGKILL');
  });
}
