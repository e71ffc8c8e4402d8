import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Launcher } from '../../apps/launcher/src/launcher';
import { parseArgs as launcherOptions } from '../../apps/launcher/src/options';
import { choiceFlag, intFlag, numberFlag, parseFlags, usageExitCode } from '../cli';
import { progressLines } from '../progress';
import { cpuSampler } from './cpu';
import { etcdAvailable, etcdGetRequest, etcdPutRequest, startEtcd } from './etcd';
import { getRequest, putRequest, runLoad, summarize } from './http-load';
import { PhaseProfiler } from './profile';
import { ratioLines, ratioValues, READS_MANY, WRITES_MANY, WRITES_ONE, type Rates } from './ratios';
import { median } from '../stats';
import { benchTopics } from './topics';

/**
 * `npm run bench -- [--protocol raft|pbft|both] [--connections 64] [--duration 10] [--failovers 10] [--vs etcd] [--rounds N] [--profile DIR]`
 * Starts a fresh local cluster per protocol, drives the gateway with concurrent HTTP clients and
 * prints writes/s, reads/s, latency percentiles, topic produce/consume throughput with end-to-end
 * latency (tools/bench/topics.ts) and failover times after leader/primary kills.
 * Results go to stdout; progress (every 5 s of a long phase) to stderr.
 */
interface BenchOptions {
  protocols: Array<'raft' | 'pbft'>;
  connections: number;
  duration: number;
  failovers: number;
  /** Also measure a 3-member etcd in the same run and print the ratios. */
  vsEtcd: boolean;
  gatewayWorkers: number;
  /** The message bus's phases (tools/bench/topics.ts). */
  topics: boolean;
  /** Where to write CPU profiles of each phase (tools/bench/profile.ts), if at all. */
  profileDir: string | null;
  /** Rounds of etcd-then-Synod phases, fresh clusters each (ratios: the median over rounds). */
  rounds: number;
}

const USAGE = `usage: npm run bench -- [--protocol raft|pbft|both] [--connections 64] [--duration 10] [--failovers 10] [--vs etcd] [--rounds N] [--profile DIR]

  --protocol raft|pbft|both  the cluster(s) to measure, one fresh cluster each (default raft)
  --connections N            concurrent keep-alive HTTP connections (default 64)
  --duration S               seconds per load phase (default 10; the 1-connection phase at most 5)
  --failovers N              leader/primary kills to time (default 10; 0 skips them)
  --gateway-workers N        gateway processes (default 1; the launcher's --gateway-workers)
  --topics on|off            the message bus's phases: produce, consume, end to end (default on)
  --vs etcd                  also run a 3-member etcd (etcd on PATH; Debian: etcd-server) with the
                             same client and workloads, and print Synod/etcd ratios
  --rounds N                 measure N times, fresh clusters each round (etcd, then Synod); the ratios
                             are the medians of the rounds' (failovers, topics and profiles: last round)
  --profile DIR              CPU-profile every replica and gateway during each phase (from its
                             second second on): DIR/<protocol>-<phase>-<process>.cpuprofile (a flame
                             graph in Chrome DevTools or speedscope) and a summary per process of
                             where its CPU went; the profiler slows the phases down
  -h, --help                 this text`;

function parse(argv: string[]): BenchOptions {
  const v = parseFlags(argv, ['protocol', 'connections', 'duration', 'failovers', 'vs', 'gateway-workers', 'topics', 'profile', 'rounds']);
  const protocol = choiceFlag(v, 'protocol', ['raft', 'pbft', 'both'] as const, 'raft');
  return {
    protocols: protocol === 'both' ? ['raft', 'pbft'] : [protocol],
    connections: intFlag(v, 'connections', 64, 1),
    duration: numberFlag(v, 'duration', 10, 1),
    failovers: intFlag(v, 'failovers', 10, 0),
    vsEtcd: choiceFlag(v, 'vs', ['etcd', 'none'] as const, 'none') === 'etcd',
    gatewayWorkers: intFlag(v, 'gateway-workers', 1, 1),
    topics: choiceFlag(v, 'topics', ['on', 'off'] as const, 'on') === 'on',
    profileDir: typeof v.profile === 'string' && v.profile !== '' ? v.profile : null,
    rounds: intFlag(v, 'rounds', 1, 1),
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

const KEYS = 1000;

/**
 * One measured phase: a line when it starts, progress while it runs, its summary and rate kept.
 * During the main write phase (every phase with a profiler), where the cores went process by
 * process and, with a profiler, where each process's CPU went inside it.
 */
function measure(who: string, port: number, o: BenchOptions, out: string[], rates: Rates, profiler: PhaseProfiler | null = null) {
  return async (name: string, connections: number, make: Parameters<typeof runLoad>[3]): Promise<void> => {
    const seconds = connections === 1 ? Math.min(o.duration, 5) : o.duration;
    const label = name.replace('many', `${connections} connections`);
    progress(`${who} ${label}: ${seconds} s`);
    const cpu = name === WRITES_MANY || profiler !== null ? cpuSampler() : null;
    const profiled =
      profiler !== null
        ? `${who}-${name
            .replace(/, many$/, '')
            .replace(', 1 connection', '-1conn')
            .replace(/\W+/g, '-')}`
        : null;
    // From the second second: the first is JIT warm-up and connection set-up.
    const starting = profiled !== null ? setTimeout(() => profiler?.start(profiled), 1000) : null;
    const r = await runLoad(port, connections, seconds, make, `${who} ${label}`);
    rates[name] = r.ok / r.seconds;
    out.push(`${who} ${summarize(label, r)}`);
    if (!cpu) return;
    const used = cpu();
    out.push(`${who} CPU during ${label}:`, ...used.lines);
    if (profiled === null || profiler === null) return;
    clearTimeout(starting ?? undefined);
    const files = await profiler.stop(profiled);
    out.push(
      `${who} CPU profiles during ${label} (${profiler.dir}; shares of each process's busy time):`,
      ...PhaseProfiler.report(files, used.rows, rates[name]),
    );
  };
}

/** The same client and workloads against a 3-member etcd (tools/bench/etcd.ts). */
async function benchEtcd(o: BenchOptions): Promise<{ lines: string[]; rates: Rates }> {
  progress('etcd: starting 3 members');
  const etcd = await startEtcd();
  const out: string[] = [];
  const rates: Rates = {};
  try {
    const phase = measure('etcd', etcd.port, o, out, rates);
    const put = (c: number, s: number) => etcdPutRequest(`bench-${(c * 7919 + s) % KEYS}`, `v${s}`);
    await runLoad(etcd.port, 16, 2, put); // warm-up
    await phase(WRITES_MANY, o.connections, put);
    await phase(WRITES_ONE, 1, put);
    await phase(READS_MANY, o.connections, (c, s) => etcdGetRequest(`bench-${(c * 7919 + s) % KEYS}`));
    for (const line of out) process.stdout.write(line + '\n');
    return { lines: out, rates };
  } finally {
    await etcd.stop();
  }
}

async function benchProtocol(protocol: 'raft' | 'pbft', o: BenchOptions, profiler: PhaseProfiler | null): Promise<{ lines: string[]; rates: Rates }> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-'));
  const launcher = new Launcher(
    launcherOptions(['--protocol', protocol, '--port', '0', '--data', dir, '--cluster', `bench${process.pid}`, '--gateway-workers', String(o.gatewayWorkers)], {
      ...process.env,
      REDIS_URL: '',
    }),
  );
  const out: string[] = [];
  const rates: Rates = {};
  try {
    progress(`${protocol}: starting a fresh cluster`);
    await launcher.start();
    const base = launcher.gatewayUrl;
    const port = Number(new URL(base).port);
    await waitFor(async () => (await http(base, 'GET', '/v1/cluster')).body?.leader ?? null, 30_000);
    /** One measured phase: a line when it starts, progress while it runs, its summary kept for stdout. */
    const phase = measure(protocol, port, o, out, rates, profiler);
    const put = (c: number, s: number) => putRequest(`bench-${(c * 7919 + s) % KEYS}`, `v${s}`);
    progress(`${protocol}: warm-up, 2 s`);
    await runLoad(port, 16, 2, put); // warm-up (JIT, connections)
    await phase(WRITES_MANY, o.connections, put);
    await phase(WRITES_ONE, 1, put);
    await phase(READS_MANY, o.connections, (c, s) => getRequest(`bench-${(c * 7919 + s) % KEYS}`));
    await phase('stale reads, many', o.connections, (c, s) => getRequest(`bench-${(c * 7919 + s) % KEYS}`, 'stale'));
    if (o.topics) out.push(...(await benchTopics(protocol, base, o.connections, o.duration)));
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
    return { lines: out, rates };
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
  const rounds: Array<ReturnType<typeof ratioValues>> = [];
  const profiler = o.profileDir !== null ? new PhaseProfiler(o.profileDir) : null;
  const withEtcd = o.vsEtcd && etcdAvailable();
  if (o.vsEtcd && !withEtcd) all.push('etcd: not on PATH, skipped (Debian: apt-get install etcd-server etcd-client)');
  for (let round = 1; round <= o.rounds; round++) {
    const last = round === o.rounds;
    if (o.rounds > 1) {
      progress(`round ${round} of ${o.rounds}`);
      all.push(`round ${round} of ${o.rounds}:`);
    }
    let etcd: Rates | null = null;
    if (withEtcd) {
      const e = await benchEtcd(o);
      all.push(...e.lines);
      etcd = e.rates;
    }
    const synod: Partial<Record<'raft' | 'pbft', Rates>> = {};
    // Failovers, topics and profiles once, in the last round: they add nothing to the ratios.
    const roundOptions = last ? o : { ...o, failovers: 0, topics: false };
    for (const p of o.protocols) {
      const b = await benchProtocol(p, roundOptions, last ? profiler : null);
      all.push(...b.lines);
      synod[p] = b.rates;
    }
    if (etcd) rounds.push(ratioValues(etcd, synod));
  }
  all.push(...ratioLines(rounds));
  process.stdout.write(`\nsummary (${new Date().toISOString()}, ${o.connections} connections, ${o.duration} s per phase)\n${all.join('\n')}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
