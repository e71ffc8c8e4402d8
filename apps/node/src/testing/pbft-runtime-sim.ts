import { Packr } from 'msgpackr';
import type { KvCommand } from '@app/consensus/kv';
import { BYZANTINE_BEHAVIORS, ed25519Crypto, ReplyQuorum, signRequest, verifyReply, type ClientRequest, type Reply } from '@app/consensus/pbft';
import { SimHistory } from '@app/consensus/sim/history';
import { seededRng } from '@app/consensus/util/rng';
import { loadKeys, PBFT_CLIENT_ID, pbftClientFor, type PbftOp, type PbftOpResult, type PbftRequestBody } from '@app/wire';
import { loadNodeConfig } from '../config/node-config';
import { PbftRuntime } from '../pbft/pbft-runtime';
import type { RuntimeIo } from '../replica/runtime';
import { SimReplicas } from './sim-replicas';

/**
 * The simulator driving the production PBFT runtime (pbft-runtime.ts: Ready loop, asynchronous
 * persist, checkpoints, state transfer, the admin API's Byzantine filters), four replicas of
 * which one may be Byzantine for the whole schedule, over a simulated network with crashes in the
 * middle of writes, partitions and lossy spells. Clients act as the gateway does: each signed
 * request goes to every replica, a retransmission asks backups to relay it, a result counts on
 * f+1 matching signed replies. What they saw must be linearizable and every correct replica must
 * end in one state. Time is the caller's fake clock (see raft-runtime-sim.ts).
 */
export interface PbftRuntimeSimOptions {
  seed: number;
  advance(ms: number): Promise<void>;
  /** A directory holding the key files of n1..n4 and the gateway (wire's ensureKeys). */
  keysDir: string;
  faultMs?: number;
}

export interface PbftRuntimeSimResult {
  violation: string | null;
  operations: number;
  acknowledgedWrites: number;
  byzantine: string;
}

export const PBFT_SIM_REPLICAS = ['n1', 'n2', 'n3', 'n4'];
const TICK_MS = 50; // production's: real Ed25519 signatures are the cost here
const CLIENT_RETRANSMIT_MS = 1000; // the gateway's ATTEMPT_TIMEOUT_MS
const packr = new Packr({ useRecords: false, moreTypes: false });

interface ClientOp {
  request: ClientRequest;
  historyId: string;
}

export async function runPbftRuntimeSim(o: PbftRuntimeSimOptions): Promise<PbftRuntimeSimResult> {
  const rng = seededRng(o.seed);
  const ids = PBFT_SIM_REPLICAS;
  const net: SimReplicas<PbftRuntime> = new SimReplicas(ids, rng, false, (id, store) => {
    const r = new PbftRuntime(cfg(id), store, io(id));
    if (id === byzantineId) r.setByzantine(behavior); // as the admin API would, kept across restarts
    return r;
  });
  const { runtimes, cut } = net;
  const history = new SimHistory();
  const problems: string[] = [];
  let acknowledged = 0;
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const byzantineId = rng.next() < 0.75 ? ids[rng.int(0, ids.length - 1)] : null;
  const behavior = BYZANTINE_BEHAVIORS[rng.int(0, BYZANTINE_BEHAVIORS.length - 1)];
  const correct = ids.filter((id) => id !== byzantineId);

  // One configuration for all: replicas with different checkpoint intervals refuse each other's checkpoints.
  const checkpointInterval = String(rng.int(2, 8));
  const maxBatch = String(rng.int(1, 8));
  const cfg = (id: string) =>
    loadNodeConfig({
      NODE_ID: id,
      NODES: ids.join(','),
      PROTOCOL: 'pbft',
      BUS_URL: 'redis://sim:1',
      STORAGE_URL: 'redis://sim:1',
      KEYS_DIR: o.keysDir,
      TICK_MS: String(TICK_MS),
      PBFT_CHECKPOINT_INTERVAL: checkpointInterval,
      PBFT_MAX_BATCH: maxBatch,
      SESSION_WINDOW: '50',
    });

  const linked = (a: string, b: string) => net.linked(a, b);
  const delay = () => net.delay();

  const io = (id: string): RuntimeIo => ({
    sendToPeers: (_frame, messages) => net.sendToPeers(id, messages),
    reply: () => undefined,
    publish: (_topic, body) => {
      if (linked(id, 'client')) setTimeout(() => clientReply((body as { reply: Reply }).reply), delay());
    },
    changed: () => undefined,
    log: () => undefined,
    error: (msg) => problems.push(`${id}: ${msg}`),
    fatal: (err) => problems.push(`${id} fatal: ${err.message}`),
  });

  const start = (id: string) => net.start(id);
  const crash = (id: string) => void net.crash(id);

  // ---- clients: the gateway's way, one operation at a time each
  const keys = loadKeys(o.keysDir, PBFT_CLIENT_ID, [...ids, PBFT_CLIENT_ID]);
  const crypto = ed25519Crypto(keys.privateKeyPem, keys.publicKeys);
  const CLIENTS = 3;
  const KEYS = rng.int(2, 4);
  const clientIds = Array.from({ length: CLIENTS }, (_, ci) => pbftClientFor(`sim${ci}`));
  const quorums = clientIds.map((c) => new ReplyQuorum(ids, c, (r) => verifyReply(crypto, r)));
  const ops: Array<ClientOp | null> = new Array(CLIENTS).fill(null);
  const seqs = new Array(CLIENTS).fill(0);
  let lastTs = 0;
  let stopped = false;
  let finalReads: string[] = [];

  const send = (ci: number, relay: boolean) => {
    const op = ops[ci];
    if (!op) return;
    const body: PbftRequestBody = { t: 'pbft-request', request: op.request, relay };
    for (const id of ids) {
      if (!linked('client', id)) continue;
      setTimeout(() => runtimes.get(id)?.onClientRequest('client', body), delay());
    }
    setTimeout(() => ops[ci] === op && send(ci, true), CLIENT_RETRANSMIT_MS);
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
    const pbftOp: PbftOp = cmd ? { kind: 'write', request: { id: historyId, ts: now(), cmd } } : { kind: 'read', query: { op: 'get', key } };
    const request = signRequest(crypto, { client: clientIds[ci], id: historyId, ts: (lastTs = Math.max(lastTs + 1, now())), op: packr.pack([pbftOp]) });
    ops[ci] = { request, historyId };
    if (cmd) history.invokeWrite(historyId, cmd, now());
    else history.invokeRead(historyId, key, now());
    send(ci, false);
  };
  function clientReply(reply: Reply): void {
    const ci = clientIds.indexOf(reply.to);
    const op = ci < 0 ? null : ops[ci];
    if (!op || reply.id !== op.request.id) return;
    const accepted = quorums[ci].add(reply);
    if (accepted === null) return;
    let result: PbftOpResult | undefined;
    try {
      result = (packr.unpack(accepted.result) as PbftOpResult[])[0];
    } catch {
      result = undefined;
    }
    if (result?.kind === 'write') {
      if (result.result.op === 'refused' || result.result.op === 'conflict') problems.push(`${op.historyId}: answered ${JSON.stringify(result.result)}`);
      history.wrote(op.historyId, result.result, now());
      acknowledged++;
    } else if (result?.kind === 'read') history.read(op.historyId, result.items[0]?.value ?? null, now());
    else problems.push(`${op.historyId}: f+1 replicas answered ${result ? JSON.stringify(result) : 'something that is not a result'}`);
    ops[ci] = null;
    setTimeout(() => invoke(ci), rng.next() * 5);
  }

  // ---- the schedule: faults among the correct replicas (the Byzantine one is faulty already)
  for (const id of ids) void start(id);
  for (let ci = 0; ci < CLIENTS; ci++) setTimeout(() => invoke(ci), 20 + rng.next() * 20);
  for (let t = 0; t < (o.faultMs ?? 3000); t += 50) {
    const r = rng.next();
    const up = correct.filter((id) => runtimes.get(id));
    if (r < 0.05 && up.length > 0) crash(up[rng.int(0, up.length - 1)]);
    else if (r < 0.12) {
      const down = ids.filter((id) => !runtimes.get(id));
      if (down.length > 0) void start(down[rng.int(0, down.length - 1)]);
    } else if (r < 0.15) cut.add(correct[rng.int(0, correct.length - 1)]);
    else if (r < 0.22) cut.clear();
    else if (r < 0.25) net.lossy = !net.lossy;
    await o.advance(50);
  }

  cut.clear();
  net.lossy = false;
  for (const id of ids) void start(id);
  stopped = true;
  finalReads = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  for (let waited = 0; ; waited += 100) {
    await o.advance(100);
    const states = correct.map((id) => runtimes.get(id)!.status());
    if (ops.every((op) => op === null) && finalReads.length === 0 && new Set(states.map((s) => s.appliedIndex)).size === 1) break;
    if (waited > 30_000) {
      problems.push(
        `liveness: not converged 30 s after healing: ${states.map((s, i) => `${correct[i]} ${s.role} v${s.term} executed ${s.appliedIndex}`).join(', ')}; pending ${ops.filter(Boolean).length}`,
      );
      break;
    }
  }
  // A digest is computed once the executed position has stood still a while (DigestCache): ask, wait, ask again.
  for (const id of correct) runtimes.get(id)!.status();
  await o.advance(1100);
  const digests = new Set(correct.map((id) => runtimes.get(id)!.status().digest));
  if (problems.length === 0 && (digests.size !== 1 || digests.has(undefined)))
    problems.push(`correct replicas ended in different states: ${[...digests].join(' / ')}`);
  const linearizability = history.violation();
  if (linearizability !== null) problems.push(`linearizable: ${linearizability}`);
  for (const id of ids) crash(id);
  const byzantine = byzantineId === null ? 'none' : `${byzantineId} ${behavior}`;
  return {
    violation: problems.length === 0 ? null : `seed ${o.seed} (byzantine ${byzantine}): ${problems.join('; ')}`,
    operations: history.size,
    acknowledgedWrites: acknowledged,
    byzantine,
  };
}
