import { checkLinearizable } from '@app/history';
import { progressLines } from '../progress';
import { ChaosCluster } from './cluster';
import { waitForConvergence } from './convergence';
import { checkLedger } from './ledger-check';
import { DurabilityStream, readUntilAnswered } from './durability';
import { request } from './http';
import type { KvClientOptions } from './kv-client';
import { Nemesis } from './nemesis';
import type { ChaosOptions } from './options';
import { Recorder } from './recorder';
import { ChaosResult, summaryLine, verdict, writeArtifacts } from './report';
import { Rng } from './rng';
import { WatchObserver } from './watch-check';
import { runWorkload, workloadKeys } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One Jepsen-style run: a fresh cluster; concurrent clients and a durability stream under a seeded
 * nemesis; then heal everything, wait for convergence, read every key back, and check the whole
 * history for linearizability.
 */
export async function runChaos(o: ChaosOptions, log: (line: string) => void = () => undefined): Promise<ChaosResult> {
  const cluster = new ChaosCluster(o.protocol, o.outDir, o.gatewayTimeoutMs);
  let keepData = true;
  try {
    log(`starting a ${o.protocol} cluster`);
    await cluster.start();
    log(`cluster up: ${cluster.url} (${cluster.nodeIds.join(', ')}), logs in ${o.outDir}/cluster.log`);
    const recorder = new Recorder();
    const rng = new Rng(o.seed);
    const kv: KvClientOptions = { base: cluster.url, recorder, timeoutMs: o.clientTimeoutMs, retryBudgetMs: 20_000, runId: `chaos-${o.seed}-${process.pid}` };
    const nemesis = new Nemesis(cluster, o.protocol, rng.fork(1000), recorder);
    log('waiting for every replica to be alive and a first write to succeed');
    await waitUntilServing(cluster.url, 60_000);
    // One watch over the whole run, from before the first write: checked against the history at the end.
    const watch = new WatchObserver(cluster.url);
    watch.start((await request(cluster.url, 'GET', '/v1/kv?limit=1', { timeoutMs: 10_000 })).body.revision + 1);

    let stop = false;
    const stopped = () => stop;
    // The canary adds as many read-only clients: stale reads are only visible while someone reads.
    const readers = o.canary === 'stale-reads' ? o.clients : 0;
    const firstSpare = o.clients + readers;
    const durability = new DurabilityStream(firstSpare, kv);
    const work = Promise.all([
      runWorkload(
        rng.fork(0),
        { clients: o.clients, readers, keys: o.keys, readConsistency: o.canary === 'stale-reads' ? 'stale' : 'linearizable' },
        kv,
        stopped,
      ),
      o.durabilityEveryMs > 0 ? durability.run(o.durabilityEveryMs, stopped) : Promise.resolve(),
    ]);
    const faults = (o.canary === 'stale-reads' ? nemesis.runStaleReadCanary(stopped) : nemesis.run(stopped)).then(() => nemesis.healAll());
    const opsSoFar = (): string => {
      const c = recorder.counts();
      const f = Object.values(nemesis.counts()).reduce((a, b) => a + b, 0);
      return `${c.total} ops (${c.ok} ok, ${c.fail} failed, ${c.info} unknown), ${f} faults`;
    };
    log(`workload: ${o.clients} clients${readers ? ` + ${readers} readers` : ''} for ${o.duration} s under the nemesis`);
    let stopProgress = progressLines('chaos', 'workload', o.duration, opsSoFar);
    await sleep(o.duration * 1000);
    stop = true;
    stopProgress();
    log(`workload stopped after ${o.duration} s (${opsSoFar()}); healing`);
    stopProgress = progressLines('chaos', 'healing (in-flight ops, nemesis)', null, opsSoFar);
    await Promise.all([work, faults]).finally(stopProgress);

    // A last write the watch must reach (then it has had every change before it), and the watch
    // closed before convergence is judged: under PBFT its reads are ordered requests too, so an
    // open watch keeps every replica's applied index moving.
    const sentinel = `end-${o.seed}-${process.pid}`;
    const ended = await request(cluster.url, 'PUT', '/v1/kv/chaos-watch-end', { body: { value: sentinel }, timeoutMs: 30_000 });
    const caughtUp = ended.status === 200 && (await watch.waitFor('chaos-watch-end', sentinel, 30_000));
    await watch.stop();

    log('waiting for the replicas to converge');
    stopProgress = progressLines('chaos', 'convergence', 60, () => 'waiting');
    const convergence = await waitForConvergence(cluster.url, 60_000).finally(stopProgress);
    log(`convergence: ${convergence.converged ? `yes at appliedIndex ${convergence.appliedIndex} after ${convergence.waitedMs} ms` : 'NO'}`);
    log(`reading back ${o.keys} keys and the durability stream`);
    stopProgress = progressLines('chaos', 'read-back', 60, opsSoFar);
    const deadline = Date.now() + 60_000;
    let dur: Awaited<ReturnType<DurabilityStream['verify']>>;
    try {
      for (const [i, key] of workloadKeys(o.keys).entries()) await readUntilAnswered(kv, firstSpare + 1 + i, key, deadline);
      dur = await durability.verify(firstSpare + 1 + o.keys, 8, deadline);
    } finally {
      stopProgress();
    }

    log("verifying the ledger (every replica's hash chain against its storage)");
    const ledger = await checkLedger(cluster.url, 30_000);
    log(
      `ledger: ${ledger.ok ? `verified at index ${ledger.commonIndex}` : `NOT verified (broken: ${ledger.broken.join(',') || 'none'}, heads agree: ${ledger.agree})`}`,
    );

    const watchReport = watch.verify(recorder.ops);
    if (!caughtUp) watchReport.problems.unshift('the watch did not reach the last write within 30 s');
    log(`watch: ${watchReport.events} changes, ${watchReport.problems.length} problems`);

    log(`checking ${recorder.ops.length} ops for linearizability`);
    const t0 = Date.now();
    const check = checkLinearizable(recorder.ops);
    const checkMs = Date.now() - t0;
    const partial = {
      protocol: o.protocol,
      seed: o.seed,
      canary: o.canary,
      clients: o.clients,
      duration: o.duration,
      ops: recorder.counts(),
      linearizable: check.incomplete && check.linearizable ? null : check.linearizable,
      check: {
        keys: check.keys,
        ops: check.ops,
        incomplete: check.incomplete,
        unknownKeys: check.unknownKeys,
        violations: check.violations.length,
        ms: checkMs,
      },
      durability: { ...dur, lostCount: dur.lost.length },
      convergence,
      ledger,
      watch: watchReport,
      faults: nemesis.counts(),
      faultErrors: nemesis.events.flatMap((e) => e.errors),
      unexpected: recorder.unexpected,
    };
    const passed = verdict(partial);
    const result: ChaosResult = { ...partial, passed, summary: summaryLine({ ...partial, passed }) };
    writeArtifacts(o, result, recorder.ops, check, nemesis.events);
    keepData = !passed;
    return result;
  } finally {
    await cluster.stop(keepData);
  }
}

/** Every replica alive and one write through: start-up is not what a run measures. */
async function waitUntilServing(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await request(base, 'GET', '/v1/cluster', { timeoutMs: 5000 });
    if (s.body?.leader && s.body.nodes?.every((n: { alive: boolean }) => n.alive)) {
      const w = await request(base, 'PUT', '/v1/kv/chaos-ready', { body: { value: 'ready' }, timeoutMs: 10_000 });
      if (w.status === 200) return;
    }
    if (Date.now() > deadline) throw new Error(`the cluster did not serve a write within ${timeoutMs / 1000} s of start`);
    await sleep(200);
  }
}
