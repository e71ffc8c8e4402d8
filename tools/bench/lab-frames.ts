import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { Launcher } from '../../apps/launcher/src/launcher';
import { parseArgs as launcherOptions } from '../../apps/launcher/src/options';
import { launchChromium } from '../chromium';
import { choiceFlag, intFlag, numberFlag, parseFlags, usageExitCode, UsageError } from '../cli';
import { cpuSampler } from './cpu';
import { percentile, putRequest, runLoad, summarize, type LoadResult } from './http-load';
import { startSyntheticLab } from './lab-synthetic';

/**
 * `npm run bench:lab -- [--nodes 7] [--protocol raft|pbft] [--connections 64] [--duration 20]`
 * Issue 15's responsiveness goal (< 100 ms per frame at 5k writes/s with 7 replicas), measured:
 * a fresh cluster through the launcher, as many writes/s as the load generator
 * (tools/bench/http-load.ts) gets through toward 5k/s, and the fault lab open in headless Chromium
 * meanwhile. Reports frames (requestAnimationFrame: rate, p50/p99/longest frame time), long tasks
 * (PerformanceObserver 'longtask') and the page's own render times (window.synodLab), with the
 * writes/s actually reached. A report, not a test: nothing here passes or fails on speed.
 *
 * `--synthetic [--writes 5000] [--events 50]`: no cluster and no load; the page is served by a
 * stand-in gateway (tools/bench/lab-synthetic.ts) whose event stream simulates that many writes/s
 * and timeline events/s with the same contract, for machines too small for the real thing. The
 * browser side (opening the page, what is measured, the report) is the same code either way.
 */
interface Options {
  protocol: 'raft' | 'pbft';
  nodes: number;
  connections: number;
  /** Seconds the page is measured (the load runs from `warmup` s before until it ends). */
  duration: number;
  warmup: number;
  path: string;
  /** Open the page (off: the same load without a browser, to see what the page costs the cluster). */
  page: boolean;
  /** A stand-in gateway with a synthetic stream instead of a cluster and load (lab-synthetic.ts). */
  synthetic: boolean;
  /** Synthetic only: writes/s simulated, timeline events/s, Raft entries per AppendEntries / PBFT requests per batch. */
  writes: number;
  events: number;
  batch: number;
}

const TARGET_WRITES = 5000;
const FRAME_GOAL_MS = 100;
const KEYS = 1000;

const USAGE = `usage: npm run bench:lab -- [--nodes 7] [--protocol raft|pbft] [--connections 64] [--duration 20]

  --nodes N          replicas (default 7)
  --protocol P       raft or pbft (default raft)
  --connections N    concurrent keep-alive HTTP connections writing (default 64): as many writes/s
                     as they get through, toward ${TARGET_WRITES}/s
  --duration S       seconds the page is measured under load (default 20)
  --warmup S         seconds of load before measuring (default 3)
  --path P           where the gateway serves the fault lab (default /)
  --page on|off      open the page (default on); off: the same load with no browser, for comparison
  --synthetic        no cluster, no load: a stand-in gateway (tools/bench/lab-synthetic.ts) serves the
                     page and a synthetic event stream (same contract) simulating:
    --writes N       writes/s (default ${TARGET_WRITES})
    --events N       timeline events/s (default 50)
    --batch N        Raft entries per AppendEntries, PBFT requests per batch (default 16)
  -h, --help         this text
  env: CHROMIUM_PATH (else /usr/bin/chromium, chromium-browser, google-chrome), LOG_LEVEL of the
       cluster's processes (warn)`;

function parse(argv: string[]): Options {
  // The one switch (cli.ts's flags all take a value): --synthetic, alone.
  const synthetic = argv.includes('--synthetic');
  const v = parseFlags(
    argv.filter((a) => a !== '--synthetic'),
    ['nodes', 'protocol', 'connections', 'duration', 'warmup', 'path', 'page', 'writes', 'events', 'batch'],
  );
  if (!synthetic) for (const f of ['writes', 'events', 'batch']) if (v[f] !== undefined) throw new UsageError(`--${f} goes with --synthetic`);
  return {
    protocol: choiceFlag(v, 'protocol', ['raft', 'pbft'] as const, 'raft'),
    nodes: intFlag(v, 'nodes', 7, 1, 31),
    connections: intFlag(v, 'connections', 64, 1),
    duration: numberFlag(v, 'duration', 20, 1),
    warmup: numberFlag(v, 'warmup', 3, 0),
    path: v.path ?? '/',
    page: choiceFlag(v, 'page', ['on', 'off'] as const, 'on') === 'on',
    synthetic,
    writes: intFlag(v, 'writes', TARGET_WRITES, 0),
    events: intFlag(v, 'events', 50, 0),
    batch: intFlag(v, 'batch', 16, 1),
  };
}

const progress = (line: string): void => void process.stderr.write(`[bench:lab] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function clusterState(base: string): Promise<any> {
  try {
    const r = await fetch(`${base}/v1/cluster`, { signal: AbortSignal.timeout(3000) });
    return await r.json();
  } catch {
    return null;
  }
}

/** What the page measured of itself between `start` and `stop` (see `startMeasuring`). */
interface PageFigures {
  seconds: number;
  frames: number[];
  longTasks: number[];
  renders: number;
  renderMs: number[];
  maxRenderMs: number | null;
}

/** In the page: every rAF frame's time, every long task, and window.synodLab at the start. */
async function startMeasuring(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as any;
    const m = {
      running: true,
      t0: g.performance.now(),
      frames: [] as number[],
      longTasks: [] as number[],
      renders0: g.synodLab?.renders ?? 0,
      seenRenderMs: 0,
    };
    g.__labBench = m;
    let last: number | null = null;
    const frame = (t: number) => {
      if (!m.running) return;
      if (last !== null) m.frames.push(t - last);
      last = t;
      g.requestAnimationFrame(frame);
    };
    g.requestAnimationFrame(frame);
    try {
      new g.PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) if (m.running && e.startTime >= m.t0) m.longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
    } catch {
      /* no Long Tasks API: none reported */
    }
    // The page's render times: those it adds to synodLab.renderMs from now on.
    m.seenRenderMs = g.synodLab?.renderMs?.length ?? 0;
  });
}

async function stopMeasuring(page: Page): Promise<PageFigures> {
  return page.evaluate(() => {
    const g = globalThis as any;
    const m = g.__labBench;
    m.running = false;
    const lab = g.synodLab ?? {};
    const all: number[] = Array.isArray(lab.renderMs) ? lab.renderMs : [];
    // A rolling array (shorter than what was seen) gives what it still holds.
    const renderMs = all.length >= m.seenRenderMs ? all.slice(m.seenRenderMs) : all.slice();
    return {
      seconds: (g.performance.now() - m.t0) / 1000,
      frames: m.frames,
      longTasks: m.longTasks,
      renders: (lab.renders ?? 0) - m.renders0,
      renderMs,
      maxRenderMs: typeof lab.maxRenderMs === 'number' ? lab.maxRenderMs : null,
    };
  });
}

const round = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));
const stats = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return { count: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s.length ? s[s.length - 1] : NaN) };
};

async function openLab(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  try {
    await page.waitForFunction(() => /(^|[^a-z])connected/i.test((globalThis as any).document.querySelector('#stream-status')?.textContent ?? ''), {
      timeout: 15_000,
    });
  } catch (err) {
    throw new Error(`${url}: no "#stream-status" saying connected within 15 s (is the fault lab served there? --path)`, { cause: err });
  }
  return { page, errors };
}

type Rows = Array<[string, string]>;

/** What the page is measured against: a fresh cluster under write load, or the stand-in's synthetic stream. */
interface Subject {
  /** Where the gateway (or the stand-in) listens. */
  base: string;
  /** Starts what runs through warm-up and the measured window (the write load). */
  begin(): void;
  /** The measured window starts. */
  mark(): Promise<void>;
  /** It ended: the subject's own figures (JSON fields, table rows, lines after the table). */
  report(windowS: number): Promise<{ result: Record<string, unknown>; rows: Rows; after: string[] }>;
  stop(): Promise<void>;
}

async function clusterSubject(o: Options): Promise<Subject> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-bench-lab-'));
  // The processes' info lines (one per replica event) would bury the report: warnings and errors only, unless LOG_LEVEL says otherwise.
  const level = `LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'}`;
  const launcher = new Launcher(
    launcherOptions(
      [
        '--protocol',
        o.protocol,
        '--nodes',
        String(o.nodes),
        '--port',
        '0',
        '--data',
        dir,
        '--cluster',
        `benchlab${process.pid}`,
        '--node-env',
        level,
        '--gateway-env',
        level,
      ],
      { ...process.env, REDIS_URL: '' },
    ),
  );
  const stop = async () => {
    await launcher.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  let base: string;
  try {
    progress(`${o.protocol}, ${o.nodes} replicas: starting a fresh cluster`);
    await launcher.start();
    base = launcher.gatewayUrl;
    for (let end = Date.now() + 30_000; !(await clusterState(base))?.leader; await sleep(50)) if (Date.now() > end) throw new Error('no leader in 30 s');
  } catch (err) {
    await stop();
    throw err;
  }
  const port = Number(new URL(base).port);
  const commitIndex = async () => (await clusterState(base))?.nodes?.reduce((m: number, n: any) => Math.max(m, n.commitIndex ?? 0), 0) ?? 0;
  let load: Promise<LoadResult> | null = null;
  let commit0 = 0;
  return {
    base,
    begin() {
      progress(`writing with ${o.connections} connections: ${o.warmup} s warm-up, then ${o.duration} s measured`);
      const put = (c: number, s: number) => putRequest(`lab-${(c * 7919 + s) % KEYS}`, `v${s}`);
      load = runLoad(port, o.connections, o.warmup + o.duration + 0.5, put, 'writes');
    },
    async mark() {
      commit0 = await commitIndex();
    },
    async report(windowS) {
      const commit1 = await commitIndex();
      const writes = await load!;
      return {
        result: {
          connections: o.connections,
          writesPerSecond: {
            target: TARGET_WRITES,
            acknowledged: Math.round(writes.ok / writes.seconds),
            failed: writes.failed,
            committedEntriesPerSecond: Math.round((commit1 - commit0) / windowS),
          },
        },
        rows: [
          ['cluster', `${o.protocol}, ${o.nodes} replicas, ${o.connections} connections, page ${o.page ? 'open' : 'not open'}`],
          ['writes/s acknowledged', `${Math.round(writes.ok / writes.seconds)} (whole run; target ${TARGET_WRITES}; ${writes.failed} failed)`],
          ['log entries committed/s', `${Math.round((commit1 - commit0) / windowS)} (measured window; PBFT: batches)`],
        ],
        after: [summarize('load (whole run)', writes)],
      };
    },
    stop,
  };
}

/** No cluster: the stand-in gateway (lab-synthetic.ts) in this process, its stream simulating `--writes` and `--events`. */
async function syntheticSubject(o: Options): Promise<Subject> {
  const lab = await startSyntheticLab({ protocol: o.protocol, nodes: o.nodes, writes: o.writes, events: o.events, batch: o.batch });
  progress(`SYNTHETIC: no cluster, no writes; ${lab.describe()}`);
  let c0 = lab.counters();
  let t0 = Date.now();
  return {
    base: lab.url,
    begin() {
      progress(`${o.warmup} s warm-up, then ${o.duration} s measured`);
    },
    async mark() {
      c0 = lab.counters();
      t0 = Date.now();
    },
    async report() {
      const c1 = lab.counters();
      const s = (Date.now() - t0) / 1000;
      const per = (k: 'events' | 'stateFrames' | 'bytes' | 'commit') => Math.round((c1[k] - c0[k]) / s);
      const frames = c1.stateFrames - c0.stateFrames;
      const frameBytes = frames > 0 ? Math.round((c1.stateBytes - c0.stateBytes) / frames) : 0;
      return {
        result: {
          synthetic: true,
          stream: lab.describe(),
          writesPerSecond: { target: TARGET_WRITES, simulated: o.writes, committedEntriesPerSecond: per('commit') },
          timelineEventsPerSecond: { target: o.events, sent: per('events') },
          stateFrames: { perSecond: round((c1.stateFrames - c0.stateFrames) / s), bytes: frameBytes, skipped: c1.statesSkipped - c0.statesSkipped },
          streamBytesPerSecond: per('bytes'),
          faults: c1.faults - c0.faults,
        },
        rows: [
          ['stream', 'SYNTHETIC (tools/bench/lab-synthetic.ts): no cluster, no writes; the page is real, its input simulated'],
          ['cluster', `${o.protocol}, ${o.nodes} replicas (simulated), page ${o.page ? 'open' : 'not open'}`],
          ['writes/s simulated', `${o.writes} (target ${TARGET_WRITES}); log entries committed/s ${per('commit')} (PBFT: batches of ${o.batch})`],
          ['timeline events/s sent', `${per('events')} (asked ${o.events}; scripted faults: ${c1.faults - c0.faults} in the window)`],
          [
            'state frames',
            `${round((c1.stateFrames - c0.stateFrames) / s)}/s, ${frameBytes} bytes each, ${c1.statesSkipped - c0.statesSkipped} skipped (slow page)`,
          ],
          ['stream bytes/s', String(per('bytes'))],
        ],
        after: ['CPU: the stand-in gateway runs in the bench process ("bench" below)'],
      };
    },
    stop: () => lab.stop(),
  };
}

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parse(process.argv.slice(2));
  } catch (err) {
    const code = usageExitCode(err, 'bench:lab', USAGE);
    if (code === null) throw err;
    process.exit(code);
  }
  const subject = o.synthetic ? await syntheticSubject(o) : await clusterSubject(o);
  let browser: Browser | null = null;
  try {
    let lab: { page: Page; errors: string[] } | null = null;
    if (o.page) {
      progress('opening the fault lab in headless Chromium');
      browser = await launchChromium();
      lab = await openLab(browser, subject.base + o.path);
    }

    subject.begin();
    await sleep(o.warmup * 1000);
    await subject.mark();
    const t0 = Date.now();
    const cpu = cpuSampler();
    if (lab) await startMeasuring(lab.page);
    await sleep(o.duration * 1000);
    const figures = lab ? await stopMeasuring(lab.page) : null;
    const cpuLines = cpu().lines;
    const windowS = (Date.now() - t0) / 1000;
    const own = await subject.report(windowS);

    const result: Record<string, unknown> = { protocol: o.protocol, replicas: o.nodes, page: o.page, seconds: round(windowS), ...own.result };
    const rows: Rows = own.rows;
    if (figures && lab) {
      const frames = stats(figures.frames);
      const render = stats(figures.renderMs);
      const longTasks = stats(figures.longTasks);
      const longTotal = round(figures.longTasks.reduce((a, b) => a + b, 0));
      result.frames = {
        fps: round(figures.frames.length / figures.seconds),
        p50Ms: frames.p50,
        p99Ms: frames.p99,
        longestMs: frames.max,
        over100Ms: figures.frames.filter((f) => f > FRAME_GOAL_MS).length,
        count: figures.frames.length,
      };
      result.longTasks = { count: figures.longTasks.length, totalMs: longTotal, longestMs: longTasks.max };
      result.renders = { count: figures.renders, p50Ms: render.p50, p99Ms: render.p99, maxMs: render.max, synodLabMaxRenderMs: round(figures.maxRenderMs) };
      result.pageErrors = lab.errors.length;
      rows.push(
        ['frames/s (rAF)', String(round(figures.frames.length / figures.seconds))],
        ['frame p50 / p99 / longest', `${frames.p50} / ${frames.p99} / ${frames.max} ms`],
        [`frames over ${FRAME_GOAL_MS} ms`, `${figures.frames.filter((f) => f > FRAME_GOAL_MS).length} of ${figures.frames.length}`],
        ['long tasks (> 50 ms)', `${figures.longTasks.length}, ${longTotal ?? 0} ms in all, longest ${longTasks.max ?? '-'} ms`],
        ['renders (synodLab)', `${figures.renders}, p50 ${render.p50} ms, p99 ${render.p99} ms, max ${render.max} ms`],
        ['page errors', String(lab.errors.length)],
      );
    }
    const w = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nfault lab frames (${new Date().toISOString()}, ${round(windowS)} s measured${o.synthetic ? ', SYNTHETIC stream' : ''})\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
    for (const line of own.after) process.stdout.write(`  ${line}\n`);
    if (cpuLines.length) process.stdout.write(`  CPU during the measured window:\n${cpuLines.map((l) => `  ${l}`).join('\n')}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (lab?.errors.length) process.stderr.write(`page errors:\n${lab.errors.join('\n')}\n`);
  } finally {
    await browser?.close().catch(() => undefined);
    await subject.stop();
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench:lab failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
