import type { KvCommand, KvResult } from '@app/consensus/kv';
import { SimHistory } from '@app/consensus/sim/history';
import { seededRng } from '@app/consensus/util/rng';
import type { ReplicaReply } from '@app/wire';
import { loadNodeConfig } from '../config/node-config';
import { RaftRuntime } from '../raft/raft-runtime';
import type { RuntimeIo } from '../replica/runtime';
import { SimReplicas } from './sim-replicas';

/**
 * The simulator, one level up: the production Raft runtime (raft-runtime.ts — its Ready loop,
 * asynchronous persist, read batching, redirects, abandoned proposals, snapshots), three or five
 * of them, over a simulated network and stores whose writes take time, with crashes in the middle
 * of a write, partitions, lost and reordered frames, and clients retrying with the same request
 * ids as the gateway does. What the clients saw must be linearizable (libs/history) and every
 * replica must end in one state.
 *
 * Time is the caller's: the runtimes use the global timers, which the caller fakes (jest's modern
 * fake timers) and advances with `advance`, so one seed is one schedule.
 */
export interface RuntimeSimOptions {
  seed: number;
  /** Advances the (fake) clock by `ms`, running the timers and promises due. */
  advance(ms: number): Promise<void>;
  /** Ms of faults before everything heals. */
  faultMs?: number;
  /** A canary: a disk that acknowledges a third of the writes it then does not keep. */
  lyingDisk?: boolean;
}

export interface RuntimeSimResult {
  /** null when every check held. */
  violation: string | null;
  operations: number;
  acknowledgedWrites: number;
  crashes: number;
}

const TICK_MS = 10;
const CLIENT_TIMEOUT_MS = 300;

interface ClientOp {
  corr: string;
  reqId: string | null;
  historyId: string;
  cmd: KvCommand | null;
  readKey: string | null;
  target: string;
  attempt: number;
}

export async function runRaftRuntimeSim(o: RuntimeSimOptions): Promise<RuntimeSimResult> {
  const rng = seededRng(o.seed);
  const n = rng.next() < 0.7 ? 3 : 5;
  const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const net: SimReplicas<RaftRuntime> = new SimReplicas(ids, rng, o.lyingDisk ?? false, (id, store) => new RaftRuntime(cfg(id), store, io(id)));
  const { runtimes, cut } = net;
  const history = new SimHistory();
  const problems: string[] = [];
  let crashes = 0;
  let acknowledged = 0;
  const t0 = Date.now(); // the fake clock: it moves with `advance`, timer by timer
  const now = () => Date.now() - t0;

  const cfg = (id: string) =>
    loadNodeConfig({
      NODE_ID: id,
      NODES: ids.join(','),
      PROTOCOL: 'raft',
      BUS_URL: 'redis://sim:1',
      STORAGE_URL: 'redis://sim:1',
      KEYS_DIR: '/unused',
      TICK_MS: String(TICK_MS),
      SNAPSHOT_EVERY: String(rng.int(5, 40)),
      MAX_ENTRIES_PER_MESSAGE: String(rng.int(1, 8)),
      SESSION_WINDOW: '50',
    });

  const linked = (a: string, b: string) => net.linked(a, b);
  const delay = () => net.delay();

  const io = (id: string): RuntimeIo => ({
    sendToPeers: (_frame, messages) => net.sendToPeers(id, messages),
    reply: (to, body) => setTimeout(() => clientReply(to, body as ReplicaReply), delay()),
    publish: () => undefined,
    changed: () => undefined,
    log: () => undefined,
    error: (msg) => problems.push(`${id}: ${msg}`),
    fatal: (err) => {
      // The replica service would restart the runtime from storage; here it is a finding (a store
      // that refuses a write as inconsistent lost data, or the runtime broke).
      problems.push(`${id} fatal: ${err.message}`);
      crash(id);
      void start(id);
    },
  });

  const start = (id: string) => net.start(id);
  const crash = (id: string) => {
    if (net.crash(id)) crashes++;
  };

  // ---- clients: one operation at a time each, retried with the same request id as the gateway does
  const CLIENTS = 3;
  const KEYS = rng.int(2, 5);
  const ops: Array<ClientOp | null> = new Array(CLIENTS).fill(null);
  const seqs = new Array(CLIENTS).fill(0);
  const leaderGuess: Array<string | null> = new Array(CLIENTS).fill(null);
  let corrSeq = 0;
  let stopped = false;
  let finalReads: string[] = [];

  const send = (ci: number) => {
    const op = ops[ci]!;
    op.corr = `c${ci}:${++corrSeq}`;
    const attempt = ++op.attempt;
    setTimeout(() => {
      if (ops[ci] === op && op.attempt === attempt) retry(ci, null);
    }, CLIENT_TIMEOUT_MS);
    const r = runtimes.get(op.target);
    if (!r || !linked('client', op.target)) return;
    const body =
      op.cmd !== null
        ? { t: 'propose' as const, corr: op.corr, requests: [{ id: op.reqId!, ts: now(), cmd: op.cmd }] }
        : { t: 'read' as const, corr: op.corr, consistency: 'linearizable' as const, query: { op: 'get' as const, key: op.readKey! } };
    setTimeout(() => runtimes.get(op.target)?.onClientRequest(`client${ci}`, body), delay());
  };
  const retry = (ci: number, hint: string | null) => {
    const op = ops[ci]!;
    op.target = hint ?? ids[rng.int(0, n - 1)];
    leaderGuess[ci] = hint;
    setTimeout(() => ops[ci] === op && send(ci), hint ? 1 : 5 + rng.next() * 20);
  };
  const invoke = (ci: number) => {
    if (stopped && finalReads.length === 0) return;
    const historyId = `c${ci}/${++seqs[ci]}`;
    const key = finalReads.length > 0 ? finalReads.pop()! : `k${rng.int(0, KEYS - 1)}`;
    const w = stopped ? 1 : rng.next();
    let cmd: KvCommand | null = null;
    if (w < 0.35) cmd = { op: 'put', key, value: historyId };
    else if (w < 0.45) cmd = { op: 'delete', key };
    else if (w < 0.6) cmd = { op: 'cas', key, expected: rng.next() < 0.5 ? null : `c${rng.int(0, CLIENTS - 1)}/${rng.int(1, seqs[ci])}`, value: historyId };
    const op: ClientOp = {
      corr: '',
      reqId: cmd ? historyId : null,
      historyId,
      cmd,
      readKey: cmd ? null : key,
      target: leaderGuess[ci] ?? ids[rng.int(0, n - 1)],
      attempt: 0,
    };
    ops[ci] = op;
    if (cmd) history.invokeWrite(historyId, cmd, now());
    else history.invokeRead(historyId, key, now());
    send(ci);
  };
  const done = (ci: number) => {
    ops[ci] = null;
    setTimeout(() => invoke(ci), rng.next() * 5);
  };
  function clientReply(to: string, body: ReplicaReply): void {
    const ci = Number(to.slice('client'.length));
    const op = ops[ci];
    if (!op || body.corr !== op.corr) return;
    if (body.t === 'redirect') return retry(ci, body.leader);
    leaderGuess[ci] = op.target;
    if (body.t === 'result') {
      const result = body.results[0] as KvResult;
      if (result.op === 'refused' || result.op === 'conflict')
        problems.push(`${op.reqId}: answered ${JSON.stringify(result)} (one client, one op at a time: never)`);
      history.wrote(op.historyId, result, now());
      acknowledged++;
    } else history.read(op.historyId, body.items[0]?.value ?? null, now());
    done(ci);
  }

  // ---- the schedule
  const step = (ms: number) => o.advance(ms);
  for (const id of ids) void start(id);
  for (let ci = 0; ci < CLIENTS; ci++) setTimeout(() => invoke(ci), rng.next() * 20);

  const faultMs = o.faultMs ?? 3000;
  for (let t = 0; t < faultMs; t += 50) {
    const r = rng.next();
    const up = ids.filter((id) => runtimes.get(id));
    if (r < 0.06 && up.length > 0) crash(up[rng.int(0, up.length - 1)]);
    else if (r < 0.12) {
      const down = ids.filter((id) => !runtimes.get(id));
      if (down.length > 0) void start(down[rng.int(0, down.length - 1)]);
    } else if (r < 0.16) cut.add(ids[rng.int(0, n - 1)]);
    else if (r < 0.22) cut.clear();
    else if (r < 0.25) net.lossy = !net.lossy;
    await step(50);
  }

  // ---- heal, let everything finish, read every key once more
  cut.clear();
  net.lossy = false;
  for (const id of ids) void start(id);
  stopped = true;
  finalReads = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  for (let waited = 0; ; waited += 100) {
    await step(100);
    const states = ids.map((id) => runtimes.get(id)!.status());
    const converged = ops.every((op) => op === null) && finalReads.length === 0 && new Set(states.map((s) => `${s.appliedIndex}`)).size === 1;
    if (converged) break;
    if (waited > 20_000) {
      problems.push(
        `liveness: not converged 20 s after healing: ${states.map((s, i) => `${ids[i]} ${s.role} t${s.term} applied ${s.appliedIndex}`).join(', ')}; pending ${ops.filter(Boolean).length}`,
      );
      break;
    }
  }
  // A digest is computed once the applied index has stood still a while (DigestCache): ask, wait, ask again.
  for (const id of ids) runtimes.get(id)!.status();
  await step(1100);
  const digests = new Set(ids.map((id) => runtimes.get(id)!.status().digest));
  if (problems.length === 0 && (digests.size !== 1 || digests.has(undefined))) problems.push(`replicas ended in different states: ${[...digests].join(' / ')}`);
  const linearizability = history.violation();
  if (linearizability !== null) problems.push(`linearizable: ${linearizability}`);
  for (const id of ids) crash(id);
  crashes -= n;
  return {
    violation: problems.length === 0 ? null : `seed ${o.seed} (${n} replicas): ${problems.join('; ')}`,
    operations: history.size,
    acknowledgedWrites: acknowledged,
    crashes,
  };
}
