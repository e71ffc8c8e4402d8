import { createByzantine, type ByzantineBehavior, type ByzantineFilter } from '../../pbft/byzantine';
import { verifyReply } from '../../pbft/client';
import { fastTestKeyring, type TestKeyring } from '../../pbft/crypto';
import { PbftReplica } from '../../pbft/replica';
import { CounterApp } from '../../pbft/testing/counter-app';
import { MemoryPbftStorage } from '../../pbft/testing/memory-storage';
import type { ClientRequest, PbftConfiguration, PbftFaults, PbftMessage, PbftReady, ReplicaId, Reply } from '../../pbft/types';
import { type Rng, seededRng, streamRng } from '../../util/rng';
import { EventQueue } from '../event-queue';
import { RELIABLE, VirtualNetwork, type LinkConditions } from '../network';
import { SimPbftClient } from './client';
import { PbftInvariants, SimViolation } from './invariants';
import { describeMessage } from './describe';
import { PbftNemesis, type CrashStage, type PbftNemesisControl } from './nemesis';
import { drawPbftParams, type PbftAdversary, type PbftSimParams, type SimByzantineBehavior } from './params';
import { chooseReplicaSet, SIM_ADMIN, SimAdmin } from './reconfigure';
import { TwinRouter, type TwinRoute } from './twins';

export interface PbftSimOptions {
  seed: number;
  trace?: boolean;
  faults?: PbftFaults;
  /** Which Byzantine replicas the seed draws (default mixed). */
  adversary?: PbftAdversary;
  params?: Partial<PbftSimParams>;
}

export interface PbftSimStats {
  steps: number;
  ticks: number;
  crashes: number;
  accepted: number;
  viewChanges: number;
  stateTransfers: number;
  messages: number;
  /** Reconfigurations the admin got accepted (applied or refused), and the epoch the cluster ended in. */
  reconfigurations: number;
  finalEpoch: number;
}

export interface PbftSimResult {
  violations: string[];
  trace: string[];
  stats: PbftSimStats;
}

/** What travels on the simulated network: replica messages, client requests, replies. */
export type SimMsg = { kind: 'pbft'; m: PbftMessage } | { kind: 'request'; r: ClientRequest } | { kind: 'reply'; r: Reply };

/** The second copy of a Twins replica: same id, same key, a disk and an app of its own. */
class Twin {
  core: PbftReplica | null = null;
  app: CounterApp | null = null;
  readonly disk = new MemoryPbftStorage();
}

/**
 * One replica: the core, its disk, its app, and for a Byzantine one the behaviour on its output
 * (a filter over the core's messages) or, for Twins, a second copy of the whole replica.
 */
class Host {
  alive = false;
  core: PbftReplica | null = null;
  app: CounterApp | null = null;
  readonly disk = new MemoryPbftStorage();
  incarnation = 0;
  /** Started once (a spare replica is not, until a reconfiguration adds it). */
  started = false;
  /** The configuration a joining replica is started with (null: the genesis one). */
  trusted: PbftConfiguration | null = null;
  armed: CrashStage | null = null;
  restartAfter = 1;
  view = 0;
  byz: ByzantineFilter | null = null;
  readonly twin: Twin | null;

  constructor(
    readonly id: ReplicaId,
    readonly index: number,
    public behavior: SimByzantineBehavior | null,
  ) {
    this.twin = behavior === 'twins' ? new Twin() : null;
  }

  get correct(): boolean {
    return this.behavior === null;
  }
}

type SimEvent =
  | { kind: 'client-next'; client: number }
  | { kind: 'client-timeout'; client: number; attempt: number }
  | { kind: 'admin-timeout'; attempt: number }
  | { kind: 'nemesis' }
  | { kind: 'restart'; host: number; incarnation: number }
  | { kind: 'heal-net'; epoch: number }
  | { kind: 'heal-all' };

/**
 * A whole PBFT cluster in one process, in virtual time: 3f+1 replicas (up to f of them
 * Byzantine) with disks and apps, a lossy network, clients and a nemesis, all from one seed.
 * Every input to a core is followed by the invariant checks; the first violation stops the run.
 */
export class PbftSim implements PbftNemesisControl {
  now = 0;
  readonly params: PbftSimParams;
  /** Every replica id, spares included. */
  readonly allIds: ReplicaId[];
  /** The genesis configuration. */
  readonly genesis: ReplicaId[];
  readonly net: VirtualNetwork<SimMsg>;
  private readonly admin: SimAdmin | null;
  /** Per epoch, the configuration as the first correct replica reported it (they must all agree). */
  private readonly configurations = new Map<number, { replicas: string; since: number; by: ReplicaId }>();
  private readonly hosts: Host[];
  private readonly clients: SimPbftClient[];
  private readonly keyring: TestKeyring;
  private readonly events = new EventQueue<SimEvent>();
  private readonly checker: PbftInvariants;
  private readonly nemesis: PbftNemesis;
  private readonly nemesisRng: Rng;
  private readonly nodeRng: Rng;
  private readonly clientRng: Rng;
  private readonly crashRng: Rng;
  private readonly twins: TwinRouter;
  private step = 0;
  /** Byzantine filters made so far (each gets a random stream of its own). */
  private switches = 0;
  private nextTick = 1;
  private netEpoch = 0;
  private healed = false;
  private healedAt = Infinity;
  private convergeFrom = Infinity;
  private done = false;
  private readonly traceLines: string[] | null;
  readonly stats: PbftSimStats = {
    steps: 0,
    ticks: 0,
    crashes: 0,
    accepted: 0,
    viewChanges: 0,
    stateTransfers: 0,
    messages: 0,
    reconfigurations: 0,
    finalEpoch: 0,
  };

  constructor(private readonly opts: PbftSimOptions) {
    const seed = opts.seed;
    this.params = { ...drawPbftParams(streamRng(seed, 0), opts.adversary), ...opts.params };
    const p = this.params;
    this.genesis = Array.from({ length: p.replicas }, (_, i) => `r${i}`);
    const spares = p.reconfigure ? p.spares : 0;
    this.allIds = Array.from({ length: p.replicas + spares }, (_, i) => `r${i}`);
    const clientIds = Array.from({ length: p.clients }, (_, i) => `c${i}`);
    const admins = p.reconfigure ? [SIM_ADMIN] : [];
    this.keyring = fastTestKeyring([...this.allIds, ...clientIds, ...admins], seed);
    this.nodeRng = streamRng(seed, 3);
    this.hosts = this.allIds.map((id, i) => new Host(id, i, p.byzantine.get(i) ?? null));
    for (const h of this.hosts) if (h.behavior !== null && h.behavior !== 'twins') h.byz = this.byzantineFilter(h, h.behavior);
    this.twins = new TwinRouter(streamRng(seed, 6), this.genesis);
    const netRng = streamRng(seed, 1);
    this.net = new VirtualNetwork<SimMsg>(netRng, [...this.allIds, ...clientIds, ...admins], mildWeather(netRng));
    this.nemesisRng = streamRng(seed, 2);
    this.nemesis = new PbftNemesis(this.nemesisRng, p.adversary, p.reconfigure);
    // Across configurations a reply quorum is f+1 of the largest f any configuration may have (7 replicas: 2).
    const quorum = p.reconfigure ? { replicas: this.allIds, need: Math.floor((Math.max(7, p.replicas) - 1) / 3) + 1 } : undefined;
    const adminCrypto = p.reconfigure ? this.keyring.cryptoFor(SIM_ADMIN) : null;
    this.admin = adminCrypto === null ? null : new SimAdmin(adminCrypto, this.allIds, quorum!.need, (r) => verifyReply(adminCrypto, r));
    this.clientRng = streamRng(seed, 4);
    this.crashRng = streamRng(seed, 5);
    this.clients = clientIds.map((id, i) => {
      const crypto = this.keyring.cryptoFor(id);
      return new SimPbftClient(id, streamRng(seed, 10 + i), crypto, this.genesis, p.keys, p.opsPerClient, (r) => verifyReply(crypto, r), quorum);
    });
    this.checker = new PbftInvariants(() => `seed=${seed} step=${this.step} t=${this.now.toFixed(2)}`);
    this.traceLines = opts.trace ? [] : null;
  }

  /** The replicas started so far (spares join when a reconfiguration adds them). */
  get ids(): ReplicaId[] {
    return this.hosts.filter((h) => h.started).map((h) => h.id);
  }

  run(): PbftSimResult {
    const violations: string[] = [];
    try {
      const p = this.params;
      const byz = [...p.byzantine].map(([i, b]) => `r${i}:${b}`).join(' ') || 'none';
      this.note(`adversary ${p.adversary}`);
      this.note(
        `seed ${this.opts.seed}: ${p.replicas} replicas, byzantine ${byz}, K=${p.checkpointInterval} L=${p.logWindow} batch=${p.maxBatch}/${p.batchTicks}t/${p.maxInflightBatches} ` +
          `timeout=${p.requestTimeoutTicks} status=${p.statusTicks} clients=${p.clients}x${p.opsPerClient} chaos=${p.chaosTicks}` +
          `${this.opts.faults ? ` faults=${JSON.stringify(this.opts.faults)}` : ''}`,
      );
      for (const h of this.hosts) if (this.genesis.includes(h.id)) this.start(h);
      this.clients.forEach((_, i) => this.events.push(this.clientRng.next() * 3, { kind: 'client-next', client: i }));
      this.events.push(2 + this.nemesisRng.next() * 10, { kind: 'nemesis' });
      this.events.push(p.chaosTicks, { kind: 'heal-all' });
      while (!this.done) this.next();
    } catch (e) {
      if (e instanceof SimViolation) violations.push(e.message);
      else {
        const err = e as Error;
        violations.push(`exception: seed=${this.opts.seed} step=${this.step} t=${this.now.toFixed(2)}: ${err.stack ?? err.message}`);
      }
      this.note(`VIOLATION ${violations[0]}`);
    }
    this.stats.steps = this.step;
    this.stats.messages = this.net.stats.sent;
    return { violations, trace: this.traceLines ?? [], stats: this.stats };
  }

  // ------------------------------------------------------------------ the loop

  private next(): void {
    const tNet = this.net.nextDeliveryTime();
    const tEvent = this.events.peekTime();
    if (tNet <= tEvent && tNet <= this.nextTick) {
      const d = this.net.deliverDue(tNet);
      if (d === undefined) return;
      this.now = d.at;
      this.deliver(d.to, d.msg, d.from);
    } else if (tEvent <= this.nextTick) {
      const { at, item } = this.events.pop()!;
      this.now = at;
      this.step++;
      this.handle(item);
    } else {
      this.now = this.nextTick++;
      this.stats.ticks++;
      for (const h of this.hosts) {
        if (!h.alive) continue;
        this.step++;
        h.core!.tick();
        this.drive(h);
        if (h.twin !== null) {
          h.twin.core!.tick();
          this.driveTwin(h);
        }
      }
      if (this.healed) this.checkLiveness();
      if (this.now > this.params.chaosTicks + 50 * this.params.livenessBound) this.checker.fail('liveness', 'the schedule did not finish');
    }
  }

  private deliver(to: string, msg: SimMsg, from: string): void {
    if (msg.kind === 'reply' && to === SIM_ADMIN) return this.adminReply(msg.r);
    if (msg.kind === 'reply') {
      const c = this.clients.find((x) => x.id === to)!;
      const result = c.onReply(msg.r);
      if (result !== null) {
        this.stats.accepted++;
        this.checker.clientAccepted(c.id, msg.r.id, result);
        if (this.traceLines) this.note(`${c.id} accepts ${msg.r.id}: ${new TextDecoder().decode(result)}`);
        this.scheduleNext(this.clients.indexOf(c));
      }
      return;
    }
    const h = this.host(to);
    if (!h.alive) return;
    this.step++;
    // A Twins replica: one copy hears it, or the other, or both.
    const route: TwinRoute = h.twin !== null ? this.twins.route(from) : 'first';
    const where = route === 'first' ? to : route === 'second' ? `${to}'` : `${to}+${to}'`;
    if (msg.kind === 'request') {
      if (this.traceLines) this.note(`${where} <- request ${msg.r.id}`);
      if (route !== 'second') h.core!.propose(msg.r);
      if (route !== 'first') h.twin!.core!.propose(msg.r);
    } else {
      if (this.traceLines) this.note(`${where} <- ${describeMessage(msg.m)}`);
      if (msg.m.type === 'State') this.stats.stateTransfers++;
      h.byz?.observe?.(msg.m);
      if (route !== 'second') h.core!.step(msg.m);
      if (route !== 'first') h.twin!.core!.step(msg.m);
    }
    this.drive(h);
    if (h.twin !== null) this.driveTwin(h);
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'client-next':
        return this.clientNext(ev.client);
      case 'client-timeout': {
        const c = this.clients[ev.client];
        if (c.op === null || c.op.attempt !== ev.attempt) return;
        c.op.attempt++;
        if (this.traceLines) this.note(`${c.id}: no f+1 answer for ${c.op.req.id}, broadcasting`);
        for (const id of this.allIds) this.net.send(c.id, id, { kind: 'request', r: c.op.req }, this.now);
        this.events.push(this.now + this.params.clientTimeout, { kind: 'client-timeout', client: ev.client, attempt: c.op.attempt });
        return;
      }
      case 'admin-timeout': {
        const op = this.admin?.op;
        if (op == null || op.attempt !== ev.attempt) return;
        op.attempt++;
        for (const id of this.allIds) this.net.send(SIM_ADMIN, id, { kind: 'request', r: op.req }, this.now);
        this.events.push(this.now + this.params.clientTimeout, { kind: 'admin-timeout', attempt: op.attempt });
        return;
      }
      case 'nemesis':
        if (this.healed) return;
        this.events.push(this.now + this.nemesis.step(this), { kind: 'nemesis' });
        return;
      case 'restart': {
        const h = this.hosts[ev.host];
        if (!h.alive && h.incarnation === ev.incarnation) this.start(h);
        return;
      }
      case 'heal-net':
        if (ev.epoch === this.netEpoch && this.net.isPartitioned) {
          this.net.heal();
          this.note('network healed');
        }
        return;
      case 'heal-all':
        return this.healAll();
    }
  }

  // ------------------------------------------------------------------ clients

  private clientNext(i: number): void {
    const c = this.clients[i];
    if (c.op !== null || c.done >= c.total) return;
    const op = c.next(this.now);
    if (this.traceLines) this.note(`${c.id} sends ${op.req.id} to ${c.primaryGuess}`);
    this.net.send(c.id, c.primaryGuess, { kind: 'request', r: op.req }, this.now);
    this.events.push(this.now + this.params.clientTimeout, { kind: 'client-timeout', client: i, attempt: 0 });
  }

  private scheduleNext(i: number): void {
    const c = this.clients[i];
    if (c.done >= c.total) return;
    // Spread the load over the chaos period and a little beyond.
    const think = this.clientRng.next() * ((2 * this.params.chaosTicks) / this.params.opsPerClient);
    this.events.push(this.now + think, { kind: 'client-next', client: i });
  }

  // ------------------------------------------------------------------ replicas

  host(id: ReplicaId): Host {
    return this.hosts[this.allIds.indexOf(id)];
  }

  /** A (re)start reads only what is on disk: the same path as a process start. */
  private start(h: Host): void {
    h.app = new CounterApp();
    h.core = this.newCore(h.id, h.app, h.disk, h.trusted);
    h.alive = true;
    h.started = true;
    const s = h.core.status();
    h.view = s.view;
    this.note(`${h.id} starts: view ${s.view}${s.viewChanging ? ' (changing)' : ''}, stable ${s.stableCheckpoint}, executed ${s.lastExecuted}`);
    this.drive(h);
    if (h.twin !== null && h.twin.core === null) {
      // Byzantine replicas never crash: the second copy starts once, with the first.
      h.twin.app = new CounterApp();
      h.twin.core = this.newCore(h.id, h.twin.app, h.twin.disk);
      this.note(`${h.id}' starts: the twin of ${h.id} (same key, a disk of its own)`);
      this.driveTwin(h);
    }
  }

  private newCore(id: ReplicaId, app: CounterApp, disk: MemoryPbftStorage, trusted: PbftConfiguration | null = null): PbftReplica {
    const p = this.params;
    const rng = seededRng(this.nodeRng.int(1, 0x7fffffff));
    return new PbftReplica(
      {
        id,
        replicas: this.genesis,
        ...(p.reconfigure ? { admin: SIM_ADMIN } : {}),
        ...(trusted !== null ? { configuration: trusted } : {}),
        app,
        crypto: this.keyring.cryptoFor(id),
        maxBatch: p.maxBatch,
        batchTicks: p.batchTicks,
        maxInflightBatches: p.maxInflightBatches,
        checkpointInterval: p.checkpointInterval,
        logWindow: p.logWindow,
        requestTimeoutTicks: p.requestTimeoutTicks,
        statusTicks: p.statusTicks,
        random: () => rng.next(),
        faults: this.opts.faults,
      },
      disk.load(),
    );
  }

  /**
   * The behaviour on a Byzantine replica's output, with a random stream of its own (a new one
   * after each switch, so that a switch does not replay the old behaviour's draws).
   */
  private byzantineFilter(h: Host, behavior: ByzantineBehavior): ByzantineFilter {
    const crypto = this.keyring.cryptoFor(h.id);
    const rng = streamRng(this.opts.seed, 100 + h.index + 16 * this.switches++);
    const p = this.params;
    return createByzantine(behavior, {
      id: h.id,
      replicas: this.genesis,
      sign: (x) => crypto.sign(x),
      random: () => rng.next(),
      checkpointInterval: p.checkpointInterval,
      logWindow: p.logWindow,
    });
  }

  switchable(): ReplicaId[] {
    return this.hosts.filter((h) => h.byz !== null).map((h) => h.id);
  }

  switchByzantine(id: ReplicaId, behavior: SimByzantineBehavior): void {
    const h = this.host(id);
    if (h.byz === null || behavior === 'twins') return;
    this.note(`${id} turns ${behavior} (was ${h.behavior})`);
    h.behavior = behavior;
    h.byz = this.byzantineFilter(h, behavior);
  }

  crash(id: ReplicaId, restartAfter: number): void {
    const h = this.host(id);
    if (!h.alive) return;
    h.restartAfter = restartAfter;
    this.crashNow(h, 'nemesis');
  }

  armCrash(id: ReplicaId, stage: CrashStage, restartAfter: number): void {
    const h = this.host(id);
    if (!h.alive) return;
    h.armed = stage;
    h.restartAfter = restartAfter;
    this.note(`${id} armed to crash ${stage}`);
  }

  private crashNow(h: Host, why: string): void {
    this.stats.crashes++;
    this.note(`CRASH ${h.id} (${why}); restart in ${h.restartAfter.toFixed(1)}`);
    h.alive = false;
    h.core = null;
    h.app = null;
    h.armed = null;
    h.incarnation++;
    this.net.dropInFlight(h.id);
    if (!this.healed) this.events.push(this.now + h.restartAfter, { kind: 'restart', host: h.index, incarnation: h.incarnation });
  }

  /** The runtime's side of Ready (persist, then send), with crash points between the steps. */
  private drive(h: Host): void {
    while (h.alive && h.core!.hasReady()) {
      const rd = h.core!.ready();
      this.observe(h, rd);
      const stage = h.armed !== null && (rd.entries.length > 0 || rd.hardState !== null || rd.messages.length > 0) ? h.armed : null;
      if (stage === 'before-persist') return this.crashNow(h, 'Ready taken, nothing persisted');
      h.disk.apply(rd);
      if (stage === 'before-send') return this.crashNow(h, 'persisted, nothing sent');
      const messages = h.byz ? h.byz.messages(rd.messages) : rd.messages;
      const replies = h.byz ? h.byz.replies(rd.replies) : rd.replies;
      const n = stage === 'mid-send' ? this.crashRng.int(0, Math.max(0, messages.length - 1)) : messages.length;
      this.send(h.id, messages.slice(0, n));
      if (stage === 'mid-send') return this.crashNow(h, `sent ${n} of ${messages.length} messages`);
      for (const r of replies) this.net.send(h.id, r.to, { kind: 'reply', r }, this.now);
      h.core!.advance(rd);
    }
  }

  /** The second copy of a Twins replica: persist, then send as the replica (it never crashes). */
  private driveTwin(h: Host): void {
    const t = h.twin!;
    while (t.core!.hasReady()) {
      const rd = t.core!.ready();
      t.disk.apply(rd);
      this.send(h.id, rd.messages);
      for (const r of rd.replies) this.net.send(h.id, r.to, { kind: 'reply', r }, this.now);
      t.core!.advance(rd);
    }
  }

  private send(from: ReplicaId, messages: PbftMessage[]): void {
    for (const m of messages) {
      if (m.to === null) {
        for (const to of this.allIds) if (to !== from) this.net.send(from, to, { kind: 'pbft', m }, this.now);
      } else if (m.to !== from) this.net.send(from, m.to, { kind: 'pbft', m }, this.now);
    }
  }

  /** Invariants over what a correct replica just did (its app already ran, whatever happens next). */
  private observe(h: Host, rd: PbftReady): void {
    const s = h.core!.status();
    if (s.view !== h.view) {
      if (s.view > h.view) this.stats.viewChanges++;
      if (this.traceLines) this.note(`${h.id} moves to view ${s.view}${s.viewChanging ? ' (changing)' : ''}`);
      h.view = s.view;
    }
    if (!h.correct) return;
    if (this.admin !== null) this.checkConfiguration(h.id, s.configuration, s.nextConfiguration);
    for (const e of rd.entries) if (e.committed !== null) this.checker.decided(h.id, e.seq, e.committed.digest, 'committed', e.committed.view);
    for (const e of rd.entries) if (e.prepared !== null) this.checker.prepared(h.id, e.seq, e.prepared.prePrepare.digest, e.prepared.prePrepare.view);
    for (const b of rd.executed) {
      if (this.traceLines) this.note(`${h.id} executes seq ${b.seq}: ${b.requests.map((r) => r.id).join(',') || 'null'}`);
      this.checker.executed(h.id, b);
    }
    for (const m of rd.messages) if (m.type === 'Checkpoint' && m.from === h.id && m.to === null) this.checker.checkpoint(h.id, m.seq, m.digest);
    if (rd.executed.length > 0) this.checker.app(h.id, h.app!.doubleApplied(), h.app!.positionErrors);
  }

  // ------------------------------------------------------------------ healing and liveness

  healNetworkAfter(ticks: number): void {
    const epoch = ++this.netEpoch;
    this.events.push(this.now + ticks, { kind: 'heal-net', epoch });
  }

  isAlive(id: ReplicaId): boolean {
    return this.host(id).alive;
  }

  isCorrect(id: ReplicaId): boolean {
    return this.host(id).correct;
  }

  /** The primary of the highest view any live replica is in. */
  primary(): ReplicaId {
    if (this.admin !== null) {
      // Across configurations: the primary a live correct member of the latest configuration names.
      const conf = this.latestConfiguration();
      const h = this.hosts.find((x) => x.alive && x.correct && conf.replicas.includes(x.id) && x.core!.status().configuration.epoch === conf.epoch);
      return h?.core!.status().primary ?? conf.replicas[0];
    }
    let view = 0;
    for (const h of this.hosts) if (h.alive && h.view > view) view = h.view;
    return this.genesis[view % this.genesis.length];
  }

  // ------------------------------------------------------------------ reconfiguration

  /** The configuration in force at some correct replica, the latest such. */
  latestConfiguration(): PbftConfiguration {
    let best: PbftConfiguration = { epoch: 0, replicas: this.genesis, since: 0 };
    for (const h of this.hosts) {
      if (h.core === null || !h.correct) continue;
      const c = h.core.status().configuration;
      if (c.epoch > best.epoch) best = { epoch: c.epoch, replicas: c.replicas, since: c.since };
    }
    return best;
  }

  members(): ReplicaId[] {
    return this.admin === null ? this.genesis : this.latestConfiguration().replicas;
  }

  reconfigure(): void {
    const admin = this.admin;
    if (admin === null || admin.op !== null || this.healed) return;
    const from = this.latestConfiguration();
    // One change at a time: the last one must be in force somewhere before the next is asked for.
    if (this.hosts.some((h) => h.core !== null && h.correct && h.core.status().nextConfiguration !== null)) return;
    const set = chooseReplicaSet(this.nemesisRng, from.replicas, this.allIds, (id) => !this.host(id).correct);
    if (set === null) return;
    const op = admin.start(set, from, this.now);
    this.note(`admin asks for [${set.join(',')}] (epoch ${from.epoch} is [${from.replicas.join(',')}])`);
    // The new replicas start now, empty, trusting the configuration in force: they catch up by state transfer.
    for (const id of set) {
      const h = this.host(id);
      if (h.started) continue;
      h.trusted = { epoch: from.epoch, replicas: [...from.replicas], since: from.since };
      this.start(h);
    }
    for (const id of this.allIds) this.net.send(SIM_ADMIN, id, { kind: 'request', r: op.req }, this.now);
    this.events.push(this.now + this.params.clientTimeout, { kind: 'admin-timeout', attempt: 0 });
  }

  private adminReply(r: Reply): void {
    const result = this.admin!.onReply(r);
    if (result === null) return;
    this.stats.reconfigurations++;
    this.checker.clientAccepted(SIM_ADMIN, r.id, result);
    this.note(`admin accepts ${r.id}: ${new TextDecoder().decode(result)}`);
  }

  /** Every correct replica names the same configuration for an epoch (across configurations, one history). */
  private checkConfiguration(id: ReplicaId, ...confs: ({ epoch: number; replicas: ReplicaId[]; since: number } | null)[]): void {
    for (const c of confs) {
      if (c === null) continue;
      const replicas = c.replicas.join(',');
      const prev = this.configurations.get(c.epoch);
      if (prev === undefined) this.configurations.set(c.epoch, { replicas, since: c.since, by: id });
      else if (prev.replicas !== replicas || prev.since !== c.since)
        this.checker.fail(
          'configuration-agreement',
          `${id} has epoch ${c.epoch} = [${replicas}] from ${c.since}, ${prev.by} has [${prev.replicas}] from ${prev.since}`,
        );
    }
  }

  private healAll(): void {
    this.healed = true;
    this.healedAt = this.now;
    this.net.heal();
    this.net.conditions = RELIABLE;
    this.note('HEAL: network reliable, every replica up, no more faults (Byzantine replicas stay Byzantine)');
    for (const h of this.hosts) {
      h.armed = null;
      if (!h.alive && (h.started || this.admin === null)) this.start(h);
    }
  }

  private checkLiveness(): void {
    const p = this.params;
    for (const c of this.clients) {
      if (c.op === null) continue;
      const deadline = Math.max(c.op.invokedAt, this.healedAt) + p.livenessBound;
      if (this.now > deadline) this.checker.fail('liveness', `${c.id}'s ${c.op.req.id} not accepted ${p.livenessBound} ticks after healing`);
    }
    const adminOp = this.admin?.op ?? null;
    if (adminOp !== null && this.now > Math.max(adminOp.invokedAt, this.healedAt) + p.livenessBound)
      this.checker.fail('liveness', `the admin's ${adminOp.req.id} not accepted ${p.livenessBound} ticks after healing`);
    if (!this.clients.every((c) => c.finished) || adminOp !== null) return;
    if (this.convergeFrom === Infinity) this.convergeFrom = this.now;
    // Every correct replica of the configuration in force converges, with that configuration in force.
    const conf = this.latestConfiguration();
    const correct = this.hosts.filter((h) => h.correct && (this.admin === null || conf.replicas.includes(h.id)));
    const target = Math.max(...correct.map((h) => h.core!.status().lastExecuted));
    const digest = correct[0].app!.digest();
    const inForce = (h: Host): boolean => this.admin === null || h.core!.status().configuration.epoch === conf.epoch;
    if (correct.every((h) => h.core!.status().lastExecuted === target && h.app!.digest() === digest && inForce(h))) {
      this.stats.finalEpoch = conf.epoch;
      this.note(`converged at seq ${target}${this.admin === null ? '' : ` in epoch ${conf.epoch} [${conf.replicas.join(',')}]`}`);
      this.done = true;
      return;
    }
    if (this.now > this.convergeFrom + p.convergenceBound) {
      const where = correct.map((h) => `${h.id}@${h.core!.status().lastExecuted}`).join(' ');
      this.checker.fail('liveness', `correct replicas did not converge within ${p.convergenceBound} ticks: ${where}`);
    }
  }

  note(line: string): void {
    if (this.traceLines) this.traceLines.push(`[${this.now.toFixed(2)}] ${line}`);
  }
}

export function mildWeather(rng: Rng): LinkConditions {
  const minDelay = 0.05 + rng.next() * 0.3;
  return { minDelay, maxDelay: minDelay + 0.2 + rng.next() * 0.8, dropRate: 0, duplicateRate: 0, longDelayRate: 0, longDelay: 0 };
}
