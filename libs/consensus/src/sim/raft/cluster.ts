import { decodeRequest, encodeRequest, KvStateMachine } from '../../kv';
import type { KvCommand, KvResult } from '../../kv/types';
import { RaftNode } from '../../raft';
import type { Entry, Message, NodeId, RaftConfig, RaftFaults, ReadFailure, ReadState, Ready } from '../../raft/types';
import { seededRng, type Rng } from '../../util/rng';
import { EventQueue } from '../event-queue';
import { RELIABLE, VirtualNetwork } from '../network';
import type { RuntimeFault } from './canaries';
import { type AckedWrite, SimClient } from './clients';
import { Disk } from './disk';
import { RaftInvariants, sameResult, SimViolation } from './invariants';
import { cloneMessage, describeMessage, describeReady } from './messages';
import { voterCrash, churnCrash, type CrashStage, type CrashTrigger, mildWeather, Nemesis, type NemesisControl } from './nemesis';
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
  /** Ticks from healing to the first leader, and to full convergence. */
  leaderAfterHeal: number;
  convergedAfterHeal: number;
}

export interface RaftSimResult {
  violations: string[];
  trace: string[];
  stats: RaftSimStats;
}

/** One replica: the core, what it has on disk, and its state machine. */
class Host {
  alive = false;
  node: RaftNode | null = null;
  readonly disk = new Disk();
  sm: KvStateMachine | null = null;
  applied = 0;
  incarnation = 0;
  armed: { stage: CrashStage; trigger: CrashTrigger } | null = null;
  restartAfter = 1;
  /** ReadIndex answers waiting for applied >= index. */
  reads: ReadState[] = [];
  /** Request id -> client, for proposals made through this replica (volatile). */
  readonly waiters = new Map<string, number>();
  role = '';
  term = 0;
  /** This replica's clock: when it ticks next, and the time between two of its ticks. */
  nextTickAt = 1;
  tickPeriod = 1;

  constructor(
    readonly id: NodeId,
    readonly index: number,
  ) {}

  get core(): RaftNode {
    return this.node!;
  }

  get kv(): KvStateMachine {
    return this.sm!;
  }
}

type SimEvent =
  | { kind: 'client-send'; client: number; attempt: number }
  | { kind: 'client-timeout'; client: number; attempt: number }
  | { kind: 'client-next'; client: number }
  | { kind: 'nemesis' }
  | { kind: 'restart'; host: number; incarnation: number }
  | { kind: 'heal-net'; epoch: number }
  | { kind: 'heal-all' };

function grantsVote(rd: Ready): boolean {
  return rd.messages.some((m) => m.type === 'RequestVoteResponse' && !m.preVote && m.voteGranted);
}

/** What a runtime that acknowledges on append would answer (it has no result yet). */
function fakeResult(cmd: KvCommand, index: number): KvResult {
  if (cmd.op === 'put') return { op: 'put', key: cmd.key, value: cmd.value, revision: index };
  if (cmd.op === 'delete') return { op: 'delete', key: cmd.key, deleted: true, revision: index };
  return { op: 'cas', key: cmd.key, succeeded: true, value: cmd.value, revision: index };
}

/** Independent random streams, so that e.g. a change in client behaviour does not reshuffle the faults. */
function stream(seed: number, k: number): Rng {
  return seededRng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 0);
}

/**
 * A whole Raft cluster in one process, in virtual time: N replicas with disks and KV state
 * machines, a faulty network, clients, and a nemesis — all driven by one seed. Every input to a
 * core is followed by an invariant check; the first violation stops the schedule.
 */
export class RaftSim implements NemesisControl {
  now = 0;
  readonly params: RaftSimParams;
  readonly ids: NodeId[];
  readonly net: VirtualNetwork<Message>;
  private readonly hosts: Host[];
  private readonly events = new EventQueue<SimEvent>();
  private readonly checker: RaftInvariants;
  private readonly clients: SimClient[];
  private readonly acked: AckedWrite[] = [];
  private maxAckedIndex = 0;
  private readonly readOwner = new Map<string, { client: number; seq: number }>();
  private readonly nemesisRng: Rng;
  private readonly nemesis: Nemesis;
  private readonly nodeRng: Rng;
  private readonly clientRng: Rng;
  private readonly crashRng: Rng;
  private step = 0;
  private netEpoch = 0;
  private healed = false;
  private churnUntil = 0;
  private voterCrashUntil = 0;
  private voterCrashP = 0;
  private healedAt = Infinity;
  private leaderAfterHeal = false;
  private done = false;
  private readonly traceLines: string[] | null;
  readonly stats: RaftSimStats = { steps: 0, ticks: 0, leaders: 0, crashes: 0, ackedWrites: 0, reads: 0, messages: 0, leaderAfterHeal: -1, convergedAfterHeal: -1 };

  constructor(private readonly opts: RaftSimOptions) {
    const seed = opts.seed;
    this.params = { ...drawParams(stream(seed, 0)), ...opts.params };
    this.ids = Array.from({ length: this.params.nodes }, (_, i) => `n${i + 1}`);
    this.hosts = this.ids.map((id, i) => new Host(id, i));
    const netRng = stream(seed, 1);
    this.net = new VirtualNetwork<Message>(netRng, this.ids, mildWeather(netRng));
    this.nemesisRng = stream(seed, 2);
    this.nemesis = new Nemesis(this.nemesisRng);
    this.nodeRng = stream(seed, 3);
    this.clientRng = stream(seed, 4);
    this.crashRng = stream(seed, 5);
    const clockRng = stream(seed, 6);
    const drift = clockRng.next() * 0.1;
    for (const h of this.hosts) {
      h.tickPeriod = 1 + (2 * clockRng.next() - 1) * drift;
      h.nextTickAt = clockRng.next();
    }
    this.clients = Array.from({ length: this.params.clients }, (_, i) => new SimClient(`c${i + 1}`, stream(seed, 10 + i), this.params.keys, this.params.readShare));
    this.checker = new RaftInvariants(() => `seed=${seed} step=${this.step} t=${this.now.toFixed(2)}`);
    this.traceLines = opts.trace ? [] : null;
  }

  run(): RaftSimResult {
    const violations: string[] = [];
    try {
      const p = this.params;
      this.note(
        `seed ${this.opts.seed}: ${p.nodes} nodes, preVote=${p.preVote} checkQuorum=${p.checkQuorum} election=${p.electionTick} ` +
          `heartbeat=${p.heartbeatTick} maxEntries=${p.maxEntriesPerMessage} inflight=${p.maxInflight} clients=${p.clients} ` +
          `keys=${p.keys} snapshotEvery=${p.snapshotEvery} chaos=${p.chaosTicks}${this.opts.faults ? ` faults=${JSON.stringify(this.opts.faults)}` : ''}`,
      );
      for (const h of this.hosts) this.start(h);
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
      // Each replica has its own clock: its own phase and a slightly different rate.
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
      case 'client-send':
        return this.clientSend(ev.client, ev.attempt);
      case 'client-timeout': {
        const op = this.clients[ev.client].op;
        if (op !== null && op.attempt === ev.attempt) {
          if (this.traceLines) this.note(`${this.clients[ev.client].id}: no answer from ${op.target}, retrying`);
          this.retry(ev.client, null, 0);
        }
        return;
      }
      case 'client-next':
        return this.clientNext(ev.client);
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

  // ------------------------------------------------------------------ replicas

  private host(id: NodeId): Host {
    return this.hosts[this.ids.indexOf(id)];
  }

  private config(): Omit<RaftConfig, 'id' | 'random'> {
    const p = this.params;
    return {
      configuration: { voters: this.ids, learners: [] },
      electionTick: p.electionTick,
      heartbeatTick: p.heartbeatTick,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      maxEntriesPerMessage: p.maxEntriesPerMessage,
      maxInflight: p.maxInflight,
      faults: this.opts.faults,
    };
  }

  /** A (re)start reads only what is on disk: the same path as a process start. */
  private start(h: Host): void {
    const rng = seededRng(this.nodeRng.int(1, 0x7fffffff));
    h.node = new RaftNode({ ...this.config(), id: h.id, random: () => rng.next() }, h.disk.load());
    const snap = h.disk.snapshot;
    h.sm = snap ? KvStateMachine.restore(snap.data) : new KvStateMachine();
    h.applied = snap ? snap.lastIncludedIndex : 0;
    h.alive = true;
    h.role = '';
    this.checker.nodeRestarted(h.id);
    this.note(`${h.id} starts: term ${h.disk.hardState.currentTerm}, snapshot ${snap?.lastIncludedIndex ?? 0}, ${h.disk.entries.length} entries on disk`);
    this.afterInput(h);
  }

  private crashNow(h: Host, why: string): void {
    this.stats.crashes++;
    this.note(`CRASH ${h.id} (${why}); restart in ${h.restartAfter.toFixed(1)}`);
    h.alive = false;
    h.node = null;
    h.sm = null;
    h.reads = [];
    h.waiters.clear();
    h.armed = null;
    h.incarnation++;
    if (!this.healed) this.events.push(this.now + h.restartAfter, { kind: 'restart', host: h.index, incarnation: h.incarnation });
  }

  /** Check the node that just moved, then do its Ready work, then compact if due. */
  private afterInput(h: Host): void {
    this.observe(h);
    this.drive(h);
    if (h.alive && h.applied - (h.core.snapshot()?.lastIncludedIndex ?? 0) >= this.params.snapshotEvery) this.compactHost(h);
  }

  private observe(h: Host): void {
    const s = h.core.status();
    if (s.role !== h.role || s.term !== h.term) {
      if (s.role === 'leader') {
        this.stats.leaders++;
        if (this.now < this.churnUntil && !this.healed && h.armed === null) this.armChurn(h);
      }
      if (this.traceLines) this.note(`${h.id} is ${s.role} in term ${s.term}`);
      h.role = s.role;
      h.term = s.term;
    }
    this.checker.observe(s, h.core.logEntries(), h.core.snapshot()?.lastIncludedTerm ?? 0);
  }

  private triggered(h: Host, rd: Ready): boolean {
    const a = h.armed;
    if (a === null) return false;
    switch (a.trigger) {
      case 'persist':
        return rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
      case 'entries':
        return rd.entries.length > 0;
      case 'vote':
        return grantsVote(rd);
      case 'commit':
        return rd.committedEntries.length > 0;
    }
  }

  /** The runtime's side of Ready (see the Ready doc comment), with crash points between the steps. */
  private drive(h: Host): void {
    while (h.alive && h.core.hasReady()) {
      const rd = h.core.ready();
      if (this.traceLines) this.note(`${h.id} ready: ${describeReady(rd)}`);
      let stage = this.triggered(h, rd) ? h.armed!.stage : null;
      if (stage === null && this.now < this.voterCrashUntil && grantsVote(rd) && this.crashRng.next() < this.voterCrashP) {
        const c = voterCrash(this.crashRng);
        stage = c.stage;
        h.restartAfter = c.restartAfter;
      }
      if (stage === 'before-persist') return this.crashNow(h, 'Ready taken, nothing persisted');

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

      const n = stage === 'mid-send' ? this.crashRng.int(0, Math.max(0, rd.messages.length - 1)) : rd.messages.length;
      for (let k = 0; k < n; k++) {
        const m = rd.messages[k];
        if (m.from !== h.id) this.checker.fail('message-origin', [h.id], `sends a message from ${m.from}`);
        this.net.send(m.from, m.to, m, this.now);
      }
      if (stage === 'mid-send') return this.crashNow(h, `sent ${n} of ${rd.messages.length} messages`);

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

      for (const rs of rd.readStates) h.reads.push(rs);
      for (const rf of rd.readFailures) this.readFailed(rf);
      if (h.reads.length > 0) this.serveReads(h);
      if (stage === 'before-advance') return this.crashNow(h, 'Ready done, not advanced');
      h.core.advance(rd);
    }
  }

  private apply(h: Host, e: Entry): void {
    if (e.index !== h.applied + 1) this.checker.fail('state-machine-safety', [h.id], `applies index ${e.index} after ${h.applied}`);
    const sm = h.kv;
    if (e.type === 'noop' || e.data === null) {
      sm.skip(e.index);
      h.applied = e.index;
      this.checker.observeApply(h.id, e, null, null, () => sm.digest());
      return;
    }
    const req = decodeRequest(e.data);
    const result = sm.apply(e.index, req);
    h.applied = e.index;
    this.checker.observeApply(h.id, e, req, result, () => sm.digest());
    // The oracle applied each request id once: a replica that applied one twice now differs.
    const key = req.cmd.key;
    const expected = this.checker.model.valueAt(key, e.index);
    const actual = sm.get(key)?.value ?? null;
    if (actual !== expected) {
      this.checker.fail('exactly-once', [h.id], `after index ${e.index} (${req.id}) ${key}=${actual}, the log applied once per request gives ${expected}`);
    }
    const client = h.waiters.get(req.id);
    if (client !== undefined) {
      h.waiters.delete(req.id);
      this.writeAnswered(client, req.id, e.index, result, h.id);
    }
  }

  private compactHost(h: Host): void {
    if (h.applied <= (h.core.snapshot()?.lastIncludedIndex ?? 0)) return;
    const snap = h.core.createSnapshot(h.applied, h.kv.snapshot());
    this.checker.checkDigest(h.id, snap.lastIncludedIndex, h.kv.digest());
    h.disk.compact(snap);
    if (this.traceLines) this.note(`${h.id} snapshot at ${snap.lastIncludedIndex}/${snap.lastIncludedTerm}`);
    this.observe(h);
  }

  // ------------------------------------------------------------------ clients

  private clientNext(ci: number): void {
    if (this.healed) return;
    const c = this.clients[ci];
    const op = c.nextOp(this.now);
    op.floor = this.maxAckedIndex;
    op.target = c.leaderGuess ?? this.ids[this.clientRng.int(0, this.ids.length - 1)];
    c.op = op;
    if (this.traceLines) {
      const what = op.readKey === null ? op.reqs.map((q) => `${q.id} ${JSON.stringify(q.cmd)}`).join(', ') : `get ${op.readKey} (floor ${op.floor})`;
      this.note(`${c.id}: invoke ${what}`);
    }
    this.clientSend(ci, 0);
  }

  private clientSend(ci: number, attempt: number): void {
    const c = this.clients[ci];
    const op = c.op;
    if (op === null || op.attempt !== attempt) return;
    this.events.push(this.now + this.params.clientTimeout, { kind: 'client-timeout', client: ci, attempt });
    const h = this.host(op.target);
    if (!h.alive) return;
    if (op.readKey === null) {
      // A retry carries the same request ids (exactly-once) and its own timestamp.
      const ts = Math.floor(this.now * 10);
      const batch = op.reqs.filter((q) => op.unanswered.has(q.id)).map((q) => ({ ...q, ts }));
      const r = h.core.propose(batch.map(encodeRequest));
      if (this.traceLines) {
        this.note(`${c.id}: propose ${batch.map((q) => q.id).join(',')} at ${h.id} (attempt ${attempt}): ${r.ok ? `index ${r.index}` : r.reason}`);
      }
      if (r.ok) {
        for (const q of batch) h.waiters.set(q.id, ci);
        c.leaderGuess = h.id;
        if (this.opts.runtimeFault === 'ack-on-append') {
          batch.forEach((q, k) => this.writeAnswered(ci, q.id, r.index + k, fakeResult(q.cmd, r.index + k), h.id, false));
        }
      }
      this.afterInput(h);
      if (!r.ok) this.retry(ci, r.leaderHint, r.reason === 'transferring' ? 2 : 0.5);
    } else {
      const ctx = `${c.id}/${op.seq}/${attempt}`;
      this.readOwner.set(ctx, { client: ci, seq: op.seq });
      if (this.traceLines) this.note(`${c.id}: readIndex ${ctx} at ${h.id}`);
      if (this.opts.runtimeFault === 'stale-read') {
        h.reads.push({ ctx, index: h.applied });
        this.serveReads(h);
        return;
      }
      h.core.readIndex(ctx);
      this.afterInput(h);
    }
  }

  /** Next attempt, at the hinted leader when there is one (else anywhere), after `delay` ticks. */
  private retry(ci: number, hint: NodeId | null, delay: number): void {
    const c = this.clients[ci];
    const op = c.op!;
    c.leaderGuess = hint;
    op.attempt++;
    op.target = hint ?? this.ids[this.clientRng.int(0, this.ids.length - 1)];
    this.events.push(this.now + (hint === null ? delay + 1 + this.clientRng.next() * 2 : delay), {
      kind: 'client-send',
      client: ci,
      attempt: op.attempt,
    });
  }

  private finishOp(ci: number): void {
    const c = this.clients[ci];
    c.op = null;
    this.events.push(this.now + this.clientRng.next() * 3, { kind: 'client-next', client: ci });
  }

  private writeAnswered(ci: number, reqId: string, index: number, result: KvResult, via: NodeId, check = true): void {
    const c = this.clients[ci];
    const op = c.op;
    if (op === null || !op.unanswered.has(reqId)) return;
    const first = this.checker.model.first(reqId);
    if (check && !sameResult(first, result)) {
      this.checker.fail('exactly-once', [via], `${reqId} answered ${JSON.stringify(result)}, its first result was ${JSON.stringify(first)}`);
    }
    this.acked.push({ client: c.id, reqId, index, result, at: this.now });
    this.stats.ackedWrites++;
    if (index > this.maxAckedIndex) this.maxAckedIndex = index;
    if (this.traceLines) this.note(`${c.id}: ${reqId} acknowledged by ${via} at index ${index}: ${JSON.stringify(result)}`);
    c.sawWrite(result);
    op.unanswered.delete(reqId);
    if (op.unanswered.size === 0) this.finishOp(ci);
  }

  private readFailed(rf: ReadFailure): void {
    const owner = this.readOwner.get(rf.ctx);
    this.readOwner.delete(rf.ctx);
    if (owner === undefined) return;
    const op = this.clients[owner.client].op;
    if (op === null || op.seq !== owner.seq || `${this.clients[owner.client].id}/${op.seq}/${op.attempt}` !== rf.ctx) return;
    this.retry(owner.client, rf.leaderHint, 0.5);
  }

  /** Serve ReadIndex answers whose index is applied; each must see every write acknowledged before the read began. */
  private serveReads(h: Host): void {
    const waiting: ReadState[] = [];
    for (const rs of h.reads) {
      if (rs.index > h.applied) {
        waiting.push(rs);
        continue;
      }
      const owner = this.readOwner.get(rs.ctx);
      this.readOwner.delete(rs.ctx);
      if (owner === undefined) continue;
      const c = this.clients[owner.client];
      const op = c.op;
      if (op === null || op.seq !== owner.seq || op.readKey === null) continue;
      if (rs.index < op.floor) {
        this.checker.fail(
          'linearizable-read',
          [h.id],
          `read ${rs.ctx} got read index ${rs.index}, but a write at index ${op.floor} was acknowledged before the read began`,
        );
      }
      const value = h.kv.get(op.readKey)?.value ?? null;
      const expected = this.checker.model.valueAt(op.readKey, h.applied);
      if (value !== expected) {
        this.checker.fail('linearizable-read', [h.id], `read ${rs.ctx} of ${op.readKey} at applied ${h.applied} returned ${value}, the log says ${expected}`);
      }
      this.stats.reads++;
      if (this.traceLines) this.note(`${c.id}: read ${op.readKey}=${value} from ${h.id} (read index ${rs.index}, applied ${h.applied})`);
      c.sawRead(op.readKey, value);
      this.finishOp(owner.client);
    }
    h.reads = waiting;
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

  private checkLiveness(): void {
    const alive = this.hosts.filter((h) => h.alive);
    let leader: Host | null = null;
    for (const h of alive) {
      if (h.role === 'leader' && (leader === null || h.term > leader.term)) leader = h;
    }
    if (leader !== null && alive.some((h) => h.term > leader!.term)) leader = null;
    if (leader !== null && !this.leaderAfterHeal) {
      this.leaderAfterHeal = true;
      this.stats.leaderAfterHeal = this.now - this.healedAt;
    }
    const elapsed = this.now - this.healedAt;
    if (!this.leaderAfterHeal && elapsed > this.params.leaderBound) {
      this.checker.fail('liveness', this.ids, `no leader ${this.params.leaderBound} ticks after healing`);
    }
    const pending = this.clients.filter((c) => c.op !== null);
    const ls = leader?.core.status();
    const converged =
      ls !== undefined &&
      pending.length === 0 &&
      alive.length === this.hosts.length &&
      ls.commitIndex === ls.lastIndex &&
      alive.every((h) => h.applied === ls.commitIndex && h.core.status().commitIndex === ls.commitIndex);
    if (converged) {
      this.stats.convergedAfterHeal = this.now - this.healedAt;
      this.finalChecks();
      this.done = true;
      return;
    }
    if (elapsed > this.params.livenessBound) {
      const ops = pending.map((c) => `${c.id}:${c.op!.readKey === null ? [...c.op!.unanswered].join(',') : `get ${c.op!.readKey}`}@${c.op!.target}`).join(' ');
      const nodes = alive.map((h) => `${h.id}(${h.role} t${h.term} applied ${h.applied})`).join(' ');
      this.checker.fail('liveness', this.ids, `not converged ${this.params.livenessBound} ticks after healing: leader ${leader?.id ?? 'none'}; pending ${ops || 'none'}; ${nodes}`);
    }
  }

  /** After convergence: nothing acknowledged was lost, and every replica holds the log's state. */
  private finalChecks(): void {
    for (const a of this.acked) {
      const e = this.checker.appliedAt(a.index);
      const id = e?.data ? decodeRequest(e.data).id : null;
      if (id !== a.reqId) {
        this.checker.fail('no-lost-write', [], `${a.reqId} was acknowledged at index ${a.index}, the committed log holds ${id ?? 'no request'} there`);
      }
    }
    const model = this.checker.model;
    const d0 = this.hosts[0].kv.digest();
    for (const h of this.hosts) {
      if (h.kv.digest() !== d0) this.checker.fail('state-machine-safety', [this.hosts[0].id, h.id], `final KV digests differ at applied ${h.applied}`);
      for (const key of model.keys()) {
        const v = h.kv.get(key)?.value ?? null;
        if (v !== model.get(key)) this.checker.fail('no-lost-write', [h.id], `final ${key}=${v}, the committed log gives ${model.get(key)}`);
      }
    }
    this.note(`converged at applied ${this.hosts[0].applied}, ${this.acked.length} writes acknowledged`);
  }

  // ------------------------------------------------------------------ NemesisControl

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
    h.restartAfter = restartAfter;
    this.crashNow(h, 'nemesis');
  }

  armCrash(id: NodeId, stage: CrashStage, trigger: CrashTrigger, restartAfter: number): void {
    const h = this.host(id);
    h.armed = { stage, trigger };
    h.restartAfter = restartAfter;
    this.note(`arm crash of ${id}: ${stage} of its next ${trigger} Ready`);
  }

  transfer(from: NodeId, to: NodeId): void {
    const h = this.host(from);
    if (!h.alive) return;
    this.note(`transfer leadership ${from} -> ${to}`);
    h.core.transferLeadership(to);
    this.afterInput(h);
  }

  compact(id: NodeId): void {
    this.compactHost(this.host(id));
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

  disarmAll(): void {
    for (const h of this.hosts) h.armed = null;
  }

  healNetworkAfter(ticks: number): void {
    const epoch = ++this.netEpoch;
    this.events.push(this.now + ticks, { kind: 'heal-net', epoch });
  }

  note(line: string): void {
    if (this.traceLines) this.traceLines.push(`${this.now.toFixed(2).padStart(8)}  ${line}`);
  }
}
