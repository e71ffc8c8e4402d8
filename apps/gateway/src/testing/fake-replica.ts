import { Bus, CLIENT_PRINCIPAL, type FrameAuth, type Frame } from '@app/bus';
import { answerQuery, KvStateMachine, validateRequest, type KvResult } from '@app/consensus/kv';
import {
  BEACON_TOPIC,
  bodiesOf,
  loadBusKeys,
  type Beacon,
  type ProposeBody,
  type Protocol,
  type ReadBody,
  type ReadResultBody,
  type RedirectBody,
  type ResultBody,
} from '@app/wire';
import { TEST_NODES, testKeysDir } from './test-keys';

/**
 * The replicated state as a test sees it: one real KvStateMachine that every fake replica of a
 * test cluster applies to, so whichever one serves, the answers agree.
 */
export class FakeStore {
  readonly sm = new KvStateMachine();
  private revision = 0;

  apply(requests: unknown[]): KvResult[] {
    return requests.map((r) => this.sm.apply(++this.revision, validateRequest(r)));
  }
}

export type ReplicaMode =
  | { kind: 'serve' }
  /** Takes frames and never answers. */
  | { kind: 'silent' }
  | { kind: 'redirect'; leader: string | null; reason: RedirectBody['reason'] };

export interface FakeReplicaOptions {
  url: string;
  cluster: string;
  id: string;
  store: FakeStore;
  role?: string;
  term?: number;
  protocol?: Protocol;
  mode?: ReplicaMode;
  beaconEveryMs?: number;
  /** The replica ids of the cluster, each its own bus principal (default n1..n7, as in testKeysDir()). */
  nodes?: string[];
  /** Where its bus keys are (default testKeysDir(), where the harness's gateways find theirs). */
  keysDir?: string;
}

/**
 * A stand-in replica on the real bus: publishes beacons, answers propose/read frames from the store.
 * Its frames are sealed with the replica's own keys from KEYS_DIR, as a real replica's are, so a
 * gateway takes its beacons (and learns its incarnation, which the control plane needs).
 */
export class FakeReplica {
  readonly id: string;
  readonly cluster: string;
  readonly proposals: ProposeBody[] = [];
  readonly reads: ReadBody[] = [];
  role: string;
  term: number;
  mode: ReplicaMode;
  beaconing = true;
  private readonly bus: Bus;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: FakeReplicaOptions) {
    this.id = opts.id;
    this.cluster = opts.cluster;
    this.role = opts.role ?? 'follower';
    this.term = opts.term ?? 1;
    this.mode = opts.mode ?? { kind: 'serve' };
    const replicas = opts.nodes ?? TEST_NODES;
    if (!replicas.includes(opts.id)) throw new Error(`FakeReplica: ${opts.id} is not one of the nodes ${replicas.join(',')}`);
    this.bus = new Bus({
      url: opts.url,
      cluster: opts.cluster,
      self: opts.id,
      topics: ['broadcast'],
      auth: { keys: loadBusKeys(opts.keysDir ?? testKeysDir(), opts.id, [...replicas, CLIENT_PRINCIPAL]), replicas },
    });
    this.bus.onFrame((f) => this.onFrame(f));
  }

  /** The bus's authenticator: the fake control plane (control-server.ts) opens and seals commands with it. */
  get auth(): FrameAuth {
    return this.bus.auth;
  }

  /** Publishes `body` on `topic` to the gateways, as this replica (e.g. a metrics snapshot). */
  publish(topic: string, body: unknown): void {
    this.bus.publish(topic, body);
  }

  async start(): Promise<this> {
    await this.bus.start();
    this.beacon();
    this.timer = setInterval(() => this.beacon(), this.opts.beaconEveryMs ?? 200);
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.bus.stop();
  }

  /** Takes a role at once (and says so in a beacon). */
  become(role: string, term = this.term): void {
    this.role = role;
    this.term = term;
    this.beacon();
  }

  get proposedRequests(): number {
    return this.proposals.reduce((n, p) => n + p.requests.length, 0);
  }

  beacon(): void {
    if (!this.beaconing) return;
    const b: Beacon = {
      t: 'beacon',
      id: this.id,
      protocol: this.opts.protocol ?? 'raft',
      role: this.role,
      term: this.term,
      leader: this.role === 'leader' ? this.id : null,
      commitIndex: this.opts.store.sm.appliedRevision,
      appliedIndex: this.opts.store.sm.appliedRevision,
      alive: true,
      isolated: false,
      byzantine: 'none',
      pid: process.pid,
    };
    this.bus.publish(BEACON_TOPIC, b);
  }

  private onFrame(frame: Frame): void {
    if (frame.topic !== 'direct') return;
    // As a replica does: the gateway's requests of one turn may share a frame.
    for (const body of bodiesOf(frame.body) ?? []) this.onBody(frame.from, body as ProposeBody | ReadBody);
  }

  private onBody(from: string, body: ProposeBody | ReadBody): void {
    if (body.t === 'propose') this.proposals.push(body);
    else if (body.t === 'read') this.reads.push(body);
    else return;
    const mode = this.mode;
    if (mode.kind === 'silent') return;
    if (mode.kind === 'redirect') {
      const r: RedirectBody = { t: 'redirect', corr: body.corr, leader: mode.leader, reason: mode.reason };
      this.bus.send(from, r);
      return;
    }
    if (body.t === 'propose') {
      const r: ResultBody = { t: 'result', corr: body.corr, results: this.opts.store.apply(body.requests) };
      this.bus.send(from, r);
      return;
    }
    const sm = this.opts.store.sm;
    const r: ReadResultBody = { t: 'read-result', corr: body.corr, ...(answerQuery(sm, body.query) ?? { items: [] }), appliedIndex: sm.appliedRevision };
    this.bus.send(from, r);
  }
}

/** Starts replicas n1..nN of one cluster sharing a store; the first is the leader unless told otherwise. */
export async function startFakeCluster(
  url: string,
  cluster: string,
  ids: string[],
  opts: { leader?: string | null; protocol?: Protocol } = {},
): Promise<{ store: FakeStore; replicas: Map<string, FakeReplica>; stop(): Promise<void> }> {
  const store = new FakeStore();
  const leader = opts.leader === undefined ? ids[0] : opts.leader;
  const replicas = new Map<string, FakeReplica>();
  for (const id of ids) {
    const r = new FakeReplica({ url, cluster, id, store, role: id === leader ? 'leader' : 'follower', protocol: opts.protocol });
    replicas.set(id, await r.start());
  }
  return { store, replicas, stop: async () => void (await Promise.all([...replicas.values()].map((r) => r.stop()))) };
}
