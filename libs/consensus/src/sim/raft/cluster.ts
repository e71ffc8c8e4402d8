import { decodeRequest, KvStateMachine } from '../../kv';
import { splitForPersist } from '../../raft/ready';
import type { ConfChange } from '../../raft/configuration';
import type { Configuration, Entry, Message, NodeId, RaftFaults, Ready } from '../../raft/types';
import { type Rng, seededRng, streamRng } from '../../util/rng';
import { EventQueue } from '../event-queue';
import { keyCommandOf } from '../history';
import { RELIABLE, VirtualNetwork } from '../network';
import type { RuntimeFault } from './canaries';
import { ClientDriver, type ClientEvent } from './client-driver';
import { grantsVote, Host } from './host';
import { RaftInvariants, SimViolation } from './invariants';
import { cloneMessage, describeMessage, describeReady } from './messages';
import { churnCrash, type CrashStage, type CrashTrigger, mildWeather, Nemesis, type NemesisControl, voterCrash } from './nemesis';
import { drawParams, type RaftSimParams } from './params';

export interface RaftSimOptions {
  seed: number;
  trace?: boolean;
  faults?: RaftFaults;
  /** A deliberately broken runtime (see canaries.ts). */
  runtimeFault?: RuntimeFault;
  params?: Partial<RaftSimParams>;
}

export interface RaftSimStats {
  steps: number;
  ticks: number;
  leaders: number;
  crashes: number;
  ackedWrites: number;
  reads: number;
  messages: number;
  /** Ticks from healing to the first leader, and to full convergence (-1: never). */
  leaderAfterHeal: number;
  convergedAfterHeal: number;
}

export interface RaftSimResult {
  violations: string[];
  trace: string[];
  stats: RaftSimStats;
}

type SimEvent =
  ClientEvent | { kind: 'nemesis' } | { kind: 'restart'; host: number; incarnation: number } | { kind: 'heal-net'; epoch: number } | { kind: 'heal-all' };

/**
 * A whole Raft cluster in one process, in virtual time: N replicas with disks and KV state
 * machines, a faulty network, clients and a nemesis — all decided by one seed. Every input to
 * a core is followed by an invariant check; the first violation ends the schedule. After the
 * chaos phase everything heals, and the cluster must elect a leader, answer every pending
 * operation and converge within bounded time.
 */
export class RaftSim implements NemesisControl {
  now = 0;
  readonly params: RaftSimParams;
  readonly ids: NodeId[];
  private readonly initialVoters: NodeId[];
  readonly net: VirtualNetwork<Message>;
  private readonly hosts: Host[];
  private readonly events = new EventQueue<SimEvent>();
  private readonly checker: RaftInvariants;
  private readonly clients: ClientDriver;
  private readonly nemesis: Nemesis;
  private readonly nemesisRng: Rng;
  private readonly nodeRng: Rng;
  private readonly crashRng: Rng;
  private step = 0;
  private netEpoch = 0;
  private churnUntil = 0;
  private voterCrashUntil = 0;
  private voterCrashP = 0;
  private healed = false;
  private healedAt = Infinity;
  /** The leader's commit index as last seen after healing, and when it last moved. */
  private commitSeen = -1;
  private commitMovedAt = 0;
  private done = false;
  private readonly traceLines: string[] | null;
  readonly stats: RaftSimStats = {
    steps: 0,
    ticks: 0,
    leaders: 0,
    crashes: 0,
    ackedWrites: 0,
    reads: 0,
    messages: 0,
    leaderAfterHeal: -1,
    convergedAfterHeal: -1,
  };

  constructor(private readonly opts: RaftSimOptions) {
    const seed = opts.seed;
    const p = (this.params = { ...drawParams(streamRng(seed, 0)), ...opts.params });
    // The first p.nodes are the initial voters; the spares start empty and wait to be added.
    this.ids = Array.from({ length: p.nodes + p.spares }, (_, i) => `n${i + 1}`);
    this.initialVoters = this.ids.slice(0, p.nodes);
    this.hosts = this.ids.map((id, i) => new Host(id, i));
    for (const h of this.hosts.slice(p.nodes)) h.joiner = true;
    const netRng = streamRng(seed, 1);
    this.net = new VirtualNetwork<Message>(netRng, this.ids, mildWeather(netRng));
    this.nemesisRng = streamRng(seed, 2);
    this.nemesis = new Nemesis(this.nemesisRng);
    this.nodeRng = streamRng(seed, 3);
    this.crashRng = streamRng(seed, 5);
    // Each replica has its own clock: its own phase and a slightly different rate.
    const clockRng = streamRng(seed, 6);
    const drift = clockRng.next() * 0.1;
    for (const h of this.hosts) {
      h.tickPeriod = 1 + (2 * clockRng.next() - 1) * drift;
      h.nextTickAt = clockRng.next();
    }
    this.traceLines = opts.trace ? [] : null;
    this.checker = new RaftInvariants(() => `seed=${seed} step=${this.step} t=${this.now.toFixed(2)}`);
    this.clients = new ClientDriver(
      {
        now: () => this.now,
        stopped: () => this.healed,
        ids: this.ids,
        clientTimeout: p.clientTimeout,
        checker: this.checker,
        runtimeFault: opts.runtimeFault,
        host: (id) => this.host(id),
        afterInput: (h) => this.afterInput(h),
        at: (time, ev) => this.events.push(time, ev),
        note: this.traceLines ? (line) => this.note(line) : null,
      },
      streamRng(seed, 4),
      Array.from({ length: p.clients }, (_, i) => streamRng(seed, 10 + i)),
      p.keys,
      p.readShare,
    );
  }

  run(): RaftSimResult {
    const violations: string[] = [];
    try {
      const p = this.params;
      this.note(
        `seed ${this.opts.seed}: ${p.nodes} nodes${p.spares > 0 ? ` + ${p.spares} spares` : ''}, preVote=${p.preVote} checkQuorum=${p.checkQuorum} election=${p.electionTick} ` +
          `heartbeat=${p.heartbeatTick} maxEntries=${p.maxEntriesPerMessage} inflight=${p.maxInflight} clients=${p.clients} ` +
          `keys=${p.keys} snapshotEvery=${p.snapshotEvery} chaos=${p.chaosTicks}` +
          `${this.opts.faults ? ` faults=${JSON.stringify(this.opts.faults)}` : ''}${this.opts.runtimeFault ? ` runtime=${this.opts.runtimeFault}` : ''}`,
      );
      for (const h of this.hosts) this.start(h);
      this.clients.start();
      this.events.push(2 + this.nemesisRng.next() * 10, { kind: 'nemesis' });
      this.events.push(p.chaosTicks, { kind: 'heal-all' });
      while (!this.done) this.next();
    } catch (e) {
      const err = e as Error;
      violations.push(
        e instanceof SimViolation ? err.message : `exception: seed=${this.opts.seed} step=${this.step} t=${this.now.toFixed(2)}: ${err.stack ?? err.message}`,
      );
      this.note(`VIOLATION ${violations[0]}`);
    }
    this.stats.steps = this.step;
    this.stats.messages = this.net.stats.sent;
    this.stats.ackedWrites = this.clients.acked.length;
    this.stats.reads = this.clients.reads;
    return { violations, trace: this.traceLines ?? [], stats: this.stats };
  }

  // ------------------------------------------------------------------ the loop

  /** One step: the earliest of a message delivery, a scheduled event and a replica's clock tick. */
  private next(): void {
    const tNet = this.net.nextDeliveryTime();
    const tEvent = this.events.peekTime();
    let th = this.hosts[0];
    for (const h of this.hosts) if (h.nextTickAt < th.nextTickAt) th = h;
    const tTick = th.nextTickAt;
    if (tNet <= tEvent && tNet <= tTick) {
      const d = this.net.deliverDue(tNet);
      if (d === undefined) return; // swallowed by a partition
      this.now = d.at;
      const h = this.host(d.to);
      if (!h.alive) return;
      this.step++;
      if (this.traceLines) this.note(describeMessage(d.msg));
      h.core.step(cloneMessage(d.msg));
      this.afterInput(h);
    } else if (tEvent <= tTick) {
      const { at, item } = this.events.pop()!;
      this.now = at;
      this.step++;
      this.handle(item);
    } else {
      this.now = tTick;
      th.nextTickAt += th.tickPeriod;
      if (th.alive) {
        this.step++;
        th.core.tick();
        this.afterInput(th);
      }
      if (th.index === 0) {
        this.stats.ticks++;
        if (this.healed) this.checkLiveness();
      }
    }
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'client-next':
      case 'client-send':
      case 'client-timeout':
        return this.clients.handle(ev);
      case 'nemesis':
        if (!this.healed) this.events.push(this.now + this.nemesis.step(this), { kind: 'nemesis' });
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

  // ------------------------------------------------------------------ replicas

  private host(id: NodeId): Host {
    return this.hosts[this.ids.indexOf(id)];
  }

  private start(h: Host): void {
    const p = this.params;
    const rng = seededRng(this.nodeRng.int(1, 0x7fffffff));
    h.boot({
      id: h.id,
      configuration: h.joiner ? { voters: [], learners: [] } : { voters: this.initialVoters, learners: [] },
      electionTick: p.electionTick,
      heartbeatTick: p.heartbeatTick,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      maxEntriesPerMessage: p.maxEntriesPerMessage,
      maxInflight: p.maxInflight,
      random: () => rng.next(),
      faults: this.opts.faults,
    });
    this.checker.nodeRestarted(h.id);
    this.note(
      `${h.id} starts: term ${h.disk.hardState.currentTerm}, snapshot ${h.disk.snapshot?.lastIncludedIndex ?? 0}, ${h.disk.entries.length} entries on disk`,
    );
    this.afterInput(h);
  }

  private crashNow(h: Host, why: string): void {
    this.stats.crashes++;
    this.note(`CRASH ${h.id} (${why}); restart in ${h.restartAfter.toFixed(1)}`);
    h.lose();
    if (!this.healed) this.events.push(this.now + h.restartAfter, { kind: 'restart', host: h.index, incarnation: h.incarnation });
  }

  /** Check the replica that just took an input, then do its Ready work, then compact if due. */
  private afterInput(h: Host): void {
    this.observe(h);
    this.drive(h);
    if (h.alive && h.applied - h.snapshotIndex() >= this.params.snapshotEvery) this.compactHost(h);
  }

  private observe(h: Host): void {
    const s = h.core.status();
    if (s.role !== h.role || s.term !== h.term) {
      if (s.role === 'leader') {
        this.stats.leaders++;
        if (this.now < this.churnUntil && h.armed === null) this.armChurn(h);
      }
      if (this.traceLines) this.note(`${h.id} is ${s.role} in term ${s.term}`);
      h.role = s.role;
      h.term = s.term;
    }
    this.checker.observe(s, h.core.logEntries(), h.core.snapshot()?.lastIncludedTerm ?? 0);
  }

  /** Where the crash strikes in handling this Ready, if one does. */
  private crashStage(h: Host, rd: Ready): CrashStage | null {
    if (h.armedFor(rd)) return h.armed!.stage;
    if (this.now < this.voterCrashUntil && grantsVote(rd) && this.crashRng.next() < this.voterCrashP) {
      const c = voterCrash(this.crashRng);
      h.restartAfter = c.restartAfter;
      return c.stage;
    }
    return null;
  }

  /** The runtime's side of Ready (see the Ready doc comment), with crash points between its steps. */
  private drive(h: Host): void {
    while (h.alive && h.core.hasReady()) {
      const rd = h.core.ready();
      if (this.traceLines) this.note(`${h.id} ready: ${describeReady(rd)}`);
      const stage = this.crashStage(h, rd);
      // As the runtime does: a leader's replication leaves before the write (raft/ready.ts).
      const { early, late } = splitForPersist(rd);
      for (const m of early) this.send(h, m);
      if (stage === 'before-persist') return this.crashNow(h, `Ready taken, ${early.length} messages sent early, nothing persisted`);

      if (rd.snapshot) {
        h.disk.installSnapshot(rd.snapshot);
        if (stage === 'mid-persist') return this.crashNow(h, 'snapshot persisted, hard state and entries not');
      }
      if (rd.hardState) {
        if (rd.hardState.currentTerm < h.disk.hardState.currentTerm) {
          this.checker.fail('durability', [h.id], `persisted term goes back from ${h.disk.hardState.currentTerm} to ${rd.hardState.currentTerm}`);
        }
        h.disk.saveHardState(rd.hardState);
      }
      const err = this.opts.runtimeFault === 'volatile-log' ? null : h.disk.append(rd.entries);
      if (err !== null) this.checker.fail('durability', [h.id], err);
      if (stage === 'before-send' || stage === 'mid-persist') return this.crashNow(h, 'persisted, nothing sent');

      const n = stage === 'mid-send' ? this.crashRng.int(0, Math.max(0, late.length - 1)) : late.length;
      for (let k = 0; k < n; k++) this.send(h, late[k]);
      if (stage === 'mid-send') return this.crashNow(h, `sent ${n} of ${late.length} messages`);

      if (rd.snapshot) {
        if (rd.snapshot.lastIncludedIndex < h.applied) {
          this.checker.fail('state-machine-safety', [h.id], `snapshot at ${rd.snapshot.lastIncludedIndex} would roll back applied ${h.applied}`);
        }
        h.sm = KvStateMachine.restore(rd.snapshot.data);
        h.applied = rd.snapshot.lastIncludedIndex;
        this.checker.checkDigest(h.id, h.applied, h.kv.digest());
      }
      const cut = stage === 'mid-apply' ? this.crashRng.int(0, rd.committedEntries.length) : rd.committedEntries.length;
      for (let k = 0; k < cut; k++) this.apply(h, rd.committedEntries[k]);
      if (stage === 'mid-apply') return this.crashNow(h, `applied ${cut} of ${rd.committedEntries.length} entries`);

      for (const rf of rd.readFailures) this.clients.readFailed(rf);
      this.clients.readStates(h, rd.readStates);
      if (stage === 'before-advance') return this.crashNow(h, 'Ready done, not advanced');
      h.core.advance(rd);
    }
  }

  private send(h: Host, m: Message): void {
    if (m.from !== h.id) this.checker.fail('message-origin', [h.id], `sends a message from ${m.from}`);
    this.net.send(m.from, m.to, m, this.now);
  }

  private apply(h: Host, e: Entry): void {
    if (e.index !== h.applied + 1) this.checker.fail('state-machine-safety', [h.id], `applies index ${e.index} after ${h.applied}`);
    const sm = h.kv;
    if (e.type !== 'normal' || e.data === null) {
      sm.skip(e.index);
      h.applied = e.index;
      this.checker.observeApply(h.id, e, null, null, () => sm.digest());
      return;
    }
    const req = decodeRequest(e.data);
    const result = sm.apply(e.index, req);
    h.applied = e.index;
    this.checker.observeApply(h.id, e, req, result, () => sm.digest());
    // The oracle applies each request id once: a replica that applied one twice now differs.
    const key = keyCommandOf(req.cmd).key;
    const expected = this.checker.model.valueAt(key, e.index);
    const actual = sm.get(key)?.value ?? null;
    if (actual !== expected) {
      this.checker.fail('exactly-once', [h.id], `after index ${e.index} (${req.id}) ${key}=${actual}, the log applied once per request gives ${expected}`);
    }
    this.clients.applied(h, req.id, e.index, result);
  }

  private compactHost(h: Host): void {
    if (h.applied <= h.snapshotIndex()) return;
    const snap = h.core.createSnapshot(h.applied, h.kv.snapshot());
    this.checker.checkDigest(h.id, snap.lastIncludedIndex, h.kv.digest());
    h.disk.compact(snap);
    if (this.traceLines) this.note(`${h.id} snapshot at ${snap.lastIncludedIndex}/${snap.lastIncludedTerm}`);
    this.observe(h);
  }

  // ------------------------------------------------------------------ healing and liveness

  private healAll(): void {
    this.healed = true;
    this.healedAt = this.now;
    this.net.heal();
    this.net.conditions = RELIABLE;
    this.churnUntil = 0;
    this.voterCrashUntil = 0;
    this.note('HEAL: network reliable, every node up, no more faults');
    for (const h of this.hosts) {
      h.armed = null;
      if (!h.alive) this.start(h);
    }
  }

  /** After healing: a leader within leaderBound, everything answered and caught up within livenessBound. */
  private checkLiveness(): void {
    const elapsed = this.now - this.healedAt;
    let leaderId = this.leader();
    const candidate = leaderId === null ? null : this.host(leaderId);
    // A leader whose term some replica has passed is on its way out: an election is under way.
    // Servers outside the configuration (removed, or spares never added) are left alone: they get
    // no log, and their campaigns are ignored by the members.
    const members = candidate === null ? [] : this.memberHosts(candidate);
    const leader = candidate !== null && members.every((h) => h.term <= candidate.term) ? candidate : null;
    if (leader === null) leaderId = null;
    if (leader !== null && this.stats.leaderAfterHeal < 0) this.stats.leaderAfterHeal = elapsed;
    if (this.stats.leaderAfterHeal < 0 && elapsed > this.params.leaderBound) {
      this.checker.fail('liveness', this.ids, `no leader ${this.params.leaderBound} ticks after healing`);
    }
    const ls = leader?.core.status();
    const converged =
      ls !== undefined &&
      this.clients.idle() &&
      ls.commitIndex === ls.lastIndex &&
      members.every((h) => h.alive && h.applied === ls.commitIndex && h.core.status().commitIndex === ls.commitIndex);
    // A leader still committing is catching up a backlog (one entry per round trip at the smallest
    // flow-control draws): it gets up to four bounds, as long as its commit index keeps moving.
    const commit = ls?.commitIndex ?? -1;
    if (commit !== this.commitSeen) {
      this.commitSeen = commit;
      this.commitMovedAt = this.now;
    }
    const catchingUp = this.now - this.commitMovedAt < 2 * this.params.electionTick && elapsed <= 4 * this.params.livenessBound;
    if (converged) {
      this.stats.convergedAfterHeal = elapsed;
      this.finalChecks(members);
      this.done = true;
    } else if (elapsed > this.params.livenessBound && !catchingUp) {
      const nodes = this.hosts.map((h) => `${h.id}(${h.role} t${h.term} applied ${h.applied})`).join(' ');
      const conf = ls === undefined ? '' : `; voters ${ls.configuration.voters.join(',')} learners ${ls.configuration.learners.join(',') || 'none'}`;
      this.checker.fail(
        'liveness',
        this.ids,
        `not converged ${this.params.livenessBound} ticks after healing: leader ${leaderId ?? 'none'}${conf}; pending ${this.clients.pending() || 'none'}; ${nodes}`,
      );
    }
  }

  /**
   * After convergence: nothing acknowledged was lost, every replica holds the log's state, and
   * what the clients saw is linearizable (libs/history, as for the end-to-end histories).
   */
  private finalChecks(members: Host[]): void {
    for (const a of this.clients.acked) {
      const e = this.checker.appliedAt(a.index);
      const id = e?.data ? decodeRequest(e.data).id : null;
      if (id !== a.reqId) {
        this.checker.fail('no-lost-write', [], `${a.reqId} was acknowledged at index ${a.index}, the committed log holds ${id ?? 'no request'} there`);
      }
    }
    const model = this.checker.model;
    const d0 = members[0].kv.digest();
    for (const h of members) {
      if (h.kv.digest() !== d0) this.checker.fail('state-machine-safety', [members[0].id, h.id], `final KV digests differ at applied ${h.applied}`);
      for (const key of model.keys()) {
        const v = h.kv.get(key)?.value ?? null;
        if (v !== model.get(key)) this.checker.fail('no-lost-write', [h.id], `final ${key}=${v}, the committed log gives ${model.get(key)}`);
      }
    }
    const violation = this.clients.history.violation();
    if (violation !== null) this.checker.fail('linearizable', [], `the clients' history (${this.clients.history.size} operations): ${violation}`);
    this.note(`converged at applied ${members[0].applied}, ${this.clients.acked.length} writes acknowledged`);
  }

  /** The hosts in `h`'s configuration, voters and learners. */
  private memberHosts(h: Host): Host[] {
    const { voters, learners } = h.core.status().configuration;
    return [...voters, ...learners].map((id) => this.host(id));
  }

  // ------------------------------------------------------------------ NemesisControl

  configuration(): { configuration: Configuration; committed: boolean } | null {
    const l = this.leader();
    if (l === null) return null;
    const s = this.host(l).core.status();
    return { configuration: s.configuration, committed: s.configIndex <= s.commitIndex };
  }

  reconfigure(changes: ConfChange[]): void {
    const l = this.leader();
    if (l === null) return;
    const h = this.host(l);
    const r = h.core.proposeConfChange(changes);
    const what = changes.map((c) => `${c.type} ${c.id}`).join(' + ');
    this.note(`reconfigure at ${l}: ${what} -> ${r.ok ? `index ${r.index}, voters ${r.configuration.voters.join(',')}` : `refused (${r.reason})`}`);
    this.afterInput(h);
  }

  /** The server's machine is replaced by an empty one (before it is added back). */
  replace(id: NodeId): void {
    const h = this.host(id);
    this.note(`replace ${id} by an empty machine`);
    if (h.alive) h.lose();
    h.disk.wipe();
    h.joiner = true;
    this.checker.nodeRestarted(id);
    this.start(h);
  }

  /** The live leader of the highest term, as last observed. */
  leader(): NodeId | null {
    let best: Host | null = null;
    for (const h of this.hosts) if (h.alive && h.role === 'leader' && (best === null || h.term > best.term)) best = h;
    return best?.id ?? null;
  }

  isAlive(id: NodeId): boolean {
    return this.host(id).alive;
  }

  crash(id: NodeId, restartAfter: number): void {
    const h = this.host(id);
    if (!h.alive) return;
    h.restartAfter = restartAfter;
    this.crashNow(h, 'nemesis');
  }

  armCrash(id: NodeId, stage: CrashStage, trigger: CrashTrigger, restartAfter: number): void {
    const h = this.host(id);
    h.armed = { stage, trigger };
    h.restartAfter = restartAfter;
    this.note(`arm crash of ${id}: ${stage} of its next ${trigger} Ready`);
  }

  disarmAll(): void {
    for (const h of this.hosts) h.armed = null;
  }

  transfer(from: NodeId, to: NodeId): void {
    const h = this.host(from);
    if (!h.alive) return;
    this.note(`transfer leadership ${from} -> ${to}`);
    h.core.transferLeadership(to);
    this.afterInput(h);
  }

  compact(id: NodeId): void {
    const h = this.host(id);
    if (h.alive) this.compactHost(h);
  }

  leaderChurn(until: number): void {
    this.churnUntil = until;
    const l = this.leader();
    if (l !== null && this.now < until) this.armChurn(this.host(l));
  }

  private armChurn(h: Host): void {
    const c = churnCrash(this.nemesisRng);
    this.armCrash(h.id, c.stage, c.trigger, c.restartAfter);
  }

  voterCrashes(until: number, p: number): void {
    this.voterCrashUntil = until;
    this.voterCrashP = p;
  }

  healNetworkAfter(ticks: number): void {
    const epoch = ++this.netEpoch;
    this.events.push(this.now + ticks, { kind: 'heal-net', epoch });
  }

  note(line: string): void {
    if (this.traceLines) this.traceLines.push(`${this.now.toFixed(2).padStart(8)}  ${line}`);
  }
}
