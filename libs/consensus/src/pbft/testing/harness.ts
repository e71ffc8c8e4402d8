import { createByzantine, type ByzantineBehavior, type ByzantineFilter } from '../byzantine';
import { signRequest } from '../client';
import { hmacTestKeyring, type TestKeyring } from '../crypto';
import { PbftReplica } from '../replica';
import type { ClientRequest, ExecutedBatch, PbftConfig, PbftFatal, PbftFaults, PbftMessage, PbftReady, ReplicaId, Reply } from '../types';
import { CounterApp, encodeCounterOp } from './counter-app';
import { MemoryPbftStorage } from './memory-storage';

export interface HarnessOptions {
  n?: number;
  clients?: string[];
  checkpointInterval?: number;
  logWindow?: number;
  maxBatch?: number;
  /** PbftConfig.maxInflightBatches (the replica's default when not given). */
  maxInflightBatches?: number;
  batchTicks?: number;
  requestTimeoutTicks?: number;
  statusTicks?: number;
  faults?: PbftFaults;
  byzantine?: Record<ReplicaId, ByzantineBehavior>;
  seed?: number;
  /** The admin principal (a client id of `clients`): reconfiguration requests it signs take effect. */
  admin?: string;
}

export interface InFlight {
  from: ReplicaId;
  to: ReplicaId;
  msg: PbftMessage;
}

/**
 * A hand-driven cluster for unit tests: FIFO delivery, a message filter to lose or hold
 * messages, crash/restart from the in-memory storage, Byzantine filters on chosen replicas.
 */
export class PbftHarness {
  readonly ids: ReplicaId[];
  readonly keyring: TestKeyring;
  readonly replicas = new Map<ReplicaId, PbftReplica | null>();
  readonly apps = new Map<ReplicaId, CounterApp>();
  readonly storage = new Map<ReplicaId, MemoryPbftStorage>();
  readonly byzantine = new Map<ReplicaId, ByzantineFilter>();
  readonly executed = new Map<ReplicaId, ExecutedBatch[]>();
  /** Every Ready.fatal each replica handed out since its last (re)start. */
  readonly fatals = new Map<ReplicaId, PbftFatal[]>();
  readonly replies: Reply[] = [];
  /** Every message handed to the network (after Byzantine filters), for inspection. */
  readonly sent: InFlight[] = [];
  queue: InFlight[] = [];
  /** Return false to lose a message. */
  filter: ((m: InFlight) => boolean) | null = null;
  private rngState: number;
  private readonly opts: Required<Omit<HarnessOptions, 'faults' | 'byzantine' | 'n' | 'clients' | 'seed' | 'admin' | 'maxInflightBatches'>> & {
    faults?: PbftFaults;
    admin?: string;
    maxInflightBatches?: number;
  };

  constructor(o: HarnessOptions = {}) {
    const n = o.n ?? 4;
    this.ids = Array.from({ length: n }, (_, i) => `r${i}`);
    const clients = o.clients ?? ['client'];
    this.keyring = hmacTestKeyring([...this.ids, ...clients], o.seed ?? 1);
    this.rngState = o.seed ?? 1;
    this.opts = {
      checkpointInterval: o.checkpointInterval ?? 4,
      logWindow: o.logWindow ?? 8,
      maxBatch: o.maxBatch ?? 4,
      ...(o.maxInflightBatches !== undefined ? { maxInflightBatches: o.maxInflightBatches } : {}),
      batchTicks: o.batchTicks ?? 0,
      requestTimeoutTicks: o.requestTimeoutTicks ?? 20,
      statusTicks: o.statusTicks ?? 5,
      faults: o.faults,
      ...(o.admin !== undefined ? { admin: o.admin } : {}),
    };
    for (const id of this.ids) {
      this.storage.set(id, new MemoryPbftStorage());
      this.executed.set(id, []);
      const behavior = o.byzantine?.[id];
      if (behavior !== undefined) {
        const crypto = this.keyring.cryptoFor(id);
        this.byzantine.set(id, createByzantine(behavior, { id, replicas: this.ids, sign: (p) => crypto.sign(p), random: () => this.random() }));
      }
      this.start(id);
    }
  }

  random(): number {
    // xorshift: the harness's own deterministic generator.
    let x = this.rngState || 1;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4294967296;
  }

  config(id: ReplicaId, app: CounterApp): PbftConfig {
    return { id, replicas: this.ids, app, crypto: this.keyring.cryptoFor(id), random: () => this.random(), ...this.opts };
  }

  replica(id: ReplicaId): PbftReplica {
    const r = this.replicas.get(id);
    if (!r) throw new Error(`${id} is down`);
    return r;
  }

  private start(id: ReplicaId): void {
    const app = new CounterApp();
    this.apps.set(id, app);
    this.fatals.set(id, []);
    this.replicas.set(id, new PbftReplica(this.config(id, app), this.storage.get(id)!.load()));
    this.collect(id);
  }

  /** Crash: volatile state and queued messages to/from it are gone; storage stays. */
  crash(id: ReplicaId): void {
    this.replicas.set(id, null);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: ReplicaId): void {
    this.start(id);
  }

  /** A signed request; each of a client's requests gets the next timestamp (1, 2, ...), as a real client's would. */
  private readonly clientTs = new Map<string, number>();

  request(client: string, rid: string, key = 'k', delta = 1, ts = (this.clientTs.get(client) ?? 0) + 1): ClientRequest {
    return this.requestOp(client, rid, encodeCounterOp({ rid, key, delta }), ts);
  }

  /** A signed request with any op (e.g. a reconfiguration). */
  requestOp(client: string, rid: string, op: Uint8Array, ts = (this.clientTs.get(client) ?? 0) + 1): ClientRequest {
    this.clientTs.set(client, Math.max(ts, this.clientTs.get(client) ?? 0));
    return signRequest(this.keyring.cryptoFor(client), { client, id: rid, ts, op });
  }

  propose(id: ReplicaId, req: ClientRequest): void {
    this.replica(id).propose(req);
    this.collect(id);
  }

  /** Drains a replica's Ready: persist, then hand messages to the network. */
  collect(id: ReplicaId): PbftReady | null {
    const r = this.replicas.get(id);
    if (!r || !r.hasReady()) return null;
    const rd = r.ready();
    this.storage.get(id)!.apply(rd);
    this.executed.get(id)!.push(...rd.executed);
    if (rd.fatal) this.fatals.get(id)!.push(rd.fatal);
    const byz = this.byzantine.get(id);
    const messages = byz ? byz.messages(rd.messages) : rd.messages;
    const replies = byz ? byz.replies(rd.replies) : rd.replies;
    for (const msg of messages) {
      const targets = msg.to === null ? this.ids.filter((x) => x !== id) : [msg.to];
      for (const to of targets) this.enqueue({ from: id, to, msg });
    }
    this.replies.push(...replies);
    r.advance(rd);
    return rd;
  }

  inject(from: ReplicaId, to: ReplicaId, msg: PbftMessage): void {
    this.enqueue({ from, to, msg });
  }

  private enqueue(m: InFlight): void {
    this.sent.push(m);
    if (this.filter !== null && !this.filter(m)) return;
    this.queue.push(m);
  }

  /** Delivers queued messages (and whatever they cause) until quiet. */
  deliver(limit = 200_000): void {
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > limit) throw new Error('harness: delivery did not quiesce');
      const m = this.queue.shift()!;
      const r = this.replicas.get(m.to);
      if (!r) continue;
      this.byzantine.get(m.to)?.observe?.(m.msg);
      r.step(m.msg);
      this.collect(m.to);
    }
  }

  /** k rounds of: every live replica ticks once, then the network delivers everything. */
  tick(k = 1): void {
    for (let i = 0; i < k; i++) {
      for (const id of this.ids) {
        const r = this.replicas.get(id);
        if (!r) continue;
        r.tick();
        this.collect(id);
      }
      this.deliver();
    }
  }

  repliesFor(rid: string): Reply[] {
    return this.replies.filter((r) => r.id === rid);
  }

  /** seq -> batch digest executed by `id`. */
  executedDigests(id: ReplicaId): Map<number, string> {
    return new Map(this.executed.get(id)!.map((b) => [b.seq, b.digest]));
  }
}
