import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher } from '../../apps/launcher/src/launcher';
import { parseArgs as launcherOptions } from '../../apps/launcher/src/options';
import { choiceFlag, intFlag, numberFlag, parseFlags, usageExitCode } from '../cli';
import { progressLines } from '../progress';
import { getRequest, putRequest, runLoad, summarize } from './http-load';

/**
 * `npm run bench -- [--protocol raft|pbft|both] [--connections 64] [--duration 10] [--failovers 10]`
 * Starts a fresh local cluster per protocol, drives the gateway with concurrent HTTP clients and
 * prints writes/s, reads/s, latency percentiles and failover times after leader/primary kills.
 * Results go to stdout; progress (every 5 s of a long phase) to stderr.
 */
interface BenchOptions {
  protocols: Array<'raft' | 'pbft'>;
  connections: number;
  duration: number;
  failovers: number;
}

const USAGE = `usage: npm run bench -- [--protocol raft|pbft|both] [--connections 64] [--duration 10] [--failovers 10]

  --protocol raft|pbft|both  the cluster(s) to measure, one fresh cluster each (default raft)
  --connections N            concurrent keep-alive HTTP connections (default 64)
  --duration S               seconds per load phase (default 10; the 1-connection phase at most 5)
  --failovers N              leader/primary kills to time (default 10; 0 skips them)
  -h, --help                 this text`;

function parse(argv: string[]): BenchOptions {
  const v = parseFlags(argv, ['protocol', 'connections', 'duration', 'failovers']);
  const protocol = choiceFlag(v, 'protocol', ['raft', 'pbft', 'both'] as const, 'raft');
  return {
    protocols: protocol === 'both' ? ['raft', 'pbft'] : [protocol],
    connections: intFlag(v, 'connections', 64, 1),
    duration: numberFlag(v, 'duration', 10, 1),
    failovers: intFlag(v, 'failovers', 10, 0),
  };
}

const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

async function http(base: string, method: string, path: string, body?: unknown, timeoutMs = 3000): Promise<{ status: number; body: any }> {
  try {
    const r = await fetch(base + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  } catch {
    return { status: 0, body: null };
  }
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kill the leader, then time until the next write is acknowledged; revive and let it converge. */
async function failover(base: string, round: number): Promise<number> {
  const leader = await waitFor(async () => (await http(base, 'GET', '/v1/cluster')).body?.leader ?? null, 30_000);
  const t0 = Date.now();
  await http(base, 'POST', `/v1/admin/nodes/${leader}/kill`);
  await waitFor(async () => {
    const r = await http(base, 'PUT', `/v1/kv/failover-${round}`, { value: String(round) }, 2000);
    return r.status === 200 ? true : null;
  }, 60_000);
  const ms = Date.now() - t0;
  await http(base, 'POST', `/v1/admin/nodes/${leader}/revive`);
  await waitFor(async () => {
    const s = (await http(base, 'GET', '/v1/cluster')).body;
    const applied = new Set(s?.nodes?.filter((n: any) => n.alive).map((n: any) => n.appliedIndex));
    return s?.nodes?.every((n: any) => n.alive) && applied.size === 1 ? true : null;
  }, 60_000);
  return ms;
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function benchProtocol(protocol: 'raft' | 'pbft', o: BenchOptions): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-'));
  const launcher = new Launcher(
    launcherOptions(['--protocol', protocol, '--port', '0', '--data', dir, '--cluster', `bench${process.pid}`], { ...process.env, REDIS_URL: '' }),
  );
  const out: string[] = [];
  try {
    progress(`${protocol}: starting a fresh cluster`);
    await launcher.start();
    const base = launcher.gatewayUrl;
    const port = Number(new URL(base).port);
    await waitFor(async () => (await http(base, 'GET', '/v1/cluster')).body?.leader ?? null, 30_000);
    const keys = 1000;
    /** One measured phase: a line when it starts, progress while it runs, its summary kept for stdout. */
    const phase = async (name: string, connections: number, seconds: number, make: Parameters<typeof runLoad>[3]): Promise<void> => {
      progress(`${protocol} ${name}: ${seconds} s`);
      out.push(`${protocol} ${summarize(name, await runLoad(port, connections, seconds, make, `${protocol} ${name}`))}`);
    };
    const put = (c: number, s: number) => putRequest(`bench-${(c * 7919 + s) % keys}`, `v${s}`);
    progress(`${protocol}: warm-up, 2 s`);
    await runLoad(port, 16, 2, put); // warm-up (JIT, connections)
    await phase(`writes, ${o.connections} connections`, o.connections, o.duration, put);
    await phase('writes, 1 connection', 1, Math.min(o.duration, 5), put);
    const get = (c: number, s: number) => getRequest(`bench-${(c * 7919 + s) % keys}`);
    await phase(`linearizable reads, ${o.connections} connections`, o.connections, o.duration, get);
    const stale = (c: number, s: number) => getRequest(`bench-${(c * 7919 + s) % keys}`, 'stale');
    await phase(`stale reads, ${o.connections} connections`, o.connections, o.duration, stale);
    if (o.failovers > 0) {
      const times: number[] = [];
      const stop = progressLines('bench', `${protocol} failovers`, null, () => `${times.length}/${o.failovers} done`);
      try {
        for (let i = 0; i < o.failovers; i++) {
          times.push(await failover(base, i));
          progress(`${protocol} failover ${i + 1}/${o.failovers}: ${times[i]} ms to the next acknowledged write`);
        }
      } finally {
        stop();
      }
      out.push(
        `${protocol} failover (kill ${protocol === 'raft' ? 'leader' : 'primary'} → next acknowledged write): median ${median(times)} ms over ${times.length} [${times.join(', ')}]`,
      );
    }
    for (const line of out) process.stdout.write(line + '\n');
    return out;
  } finally {
    await launcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let o: BenchOptions;
  try {
    o = parse(process.argv.slice(2));
  } catch (err) {
    const code = usageExitCode(err, 'bench', USAGE);
    if (code === null) throw err;
    process.exit(code);
  }
  const all: string[] = [];
  for (const p of o.protocols) all.push(...(await benchProtocol(p, o)));
  process.stdout.write(`\nsummary (${new Date().toISOString()}, ${o.connections} connections, ${o.duration} s per phase)\n${all.join('\n')}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
