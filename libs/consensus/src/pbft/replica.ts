import { mutant, localMutants, type MutantName, type PbftMutant } from '../mutants';
import { planNewView, validCheckpointProof, validCommitCertificate, validViewChange, type CertificateContext, type NewViewPlan } from './certificates';
import {
  boundaryAtOrAfter,
  configurationContext,
  decodeReconfiguration,
  isReconfiguration,
  linkDigest,
  sameReplicas,
  walkConfigurationChain,
  withConfiguration,
} from './reconfiguration';
import { ClientTable, packState, unpackState } from './client-table';
import { batchDigest, checkpointDigest, clientSigner, replyPayload, requestDigest, requestKey, requestPayload, signingPayload } from './codec';
import { checkpointLedgerDigest, GENESIS_HASH, pbftBlockHash } from '../ledger/block';
import { Slot } from './log';
import { quorums, type Quorums } from './quorum';
import type {
  Checkpoint,
  ClientRequest,
  Commit,
  CommittedBatches,
  CommitCertificate,
  ConfigurationLink,
  ExecutedBatch,
  ExecutedRequest,
  FetchCommitted,
  FetchState,
  Forward,
  NewView,
  PbftConfig,
  PbftConfiguration,
  PbftConfigurationStatus,
  PbftFatal,
  PbftHardState,
  PbftLogEntry,
  PbftMessage,
  PbftPersistentState,
  PbftReady,
  PbftStableCheckpoint,
  PbftInspection,
  PbftStatus,
  PreparedCertificate,
  PrePrepare,
  Prepare,
  ProposeResult,
  Reply,
  ReplicaId,
  StateTransfer,
  Status,
  ViewChange,
} from './types';
import { MAX_VIEW, PBFT_FAULT_MUTANTS } from './types';
import { wellFormed, wellFormedRequest } from './validate';

/** The result a replica gives for a request whose execution threw (deterministically the same everywhere). */
export const EXECUTION_ERROR = new TextEncoder().encode('error: execution failed');
/** The answer to a request older than its client's window of executed timestamps: not executed. */
export const STALE_REQUEST = new TextEncoder().encode('error: request timestamp already executed or too old');

/** The mutant that switches off the signature check of each kind of message (the rest: pbft.auxiliary.skip-signature). */
const SIGNATURE_MUTANT: Partial<Record<PbftMessage['type'], PbftMutant>> = {
  PrePrepare: 'pbft.preprepare.skip-signature',
  Prepare: 'pbft.prepare.skip-signature',
  Commit: 'pbft.commit.skip-signature',
  Checkpoint: 'pbft.checkpoint.skip-signature',
  ViewChange: 'pbft.view-change.skip-signature',
  NewView: 'pbft.new-view.skip-signature',
};

/** Replies remembered for retransmitted requests (a cache; exactly-once itself is the app's job). */
const REPLY_CACHE = 10_000;
const VERIFIED_REQUESTS = 10_000;
/** PbftConfig.maxInflightBatches when not given. */
const DEFAULT_INFLIGHT_BATCHES = 1;

/** Unordered waiting requests re-forwarded per status period, at most (in batches of maxBatch). */
const REFORWARD_BATCHES = 8;
/** Backoff exponent cap: timeouts stop growing at base * 2^MAX_BACKOFF (bounded recovery after long outages). */
export const MAX_BACKOFF = 5;

interface OwnCheckpoint {
  msg: Checkpoint;
  position: number;
  snapshot: Uint8Array;
  ledger?: { stateDigest: string; head: string };
  /** The app's and client table's share of the digest (reconfiguration.ts binds the configuration on top). */
  part: string;
}

/** A configuration taking over at the end of the current input (reconfiguration.ts, rules 3-4). */
interface ConfigurationSwitch {
  conf: PbftConfiguration;
  prev: PbftConfiguration | null;
  links: ConfigurationLink[];
}

/** Normal-case messages held for sequence numbers whose configuration is not known yet, at most, per replica of n. */
const EARLY_PER_REPLICA = 64;
const enc = new TextEncoder();

interface Waiting {
  request: ClientRequest;
  /** Tick at which this request's timer (re)started. */
  since: number;
}

interface Fetch {
  kind: 'state' | 'committed';
  /** state: the checkpoint seq wanted; committed: batches after this seq. */
  seq: number;
  peers: ReplicaId[];
  attempt: number;
  deadline: number;
}

interface Outbox {
  fatal: PbftFatal | null;
  hardState: PbftHardState | null;
  newView: NewView | null;
  entries: Map<number, PbftLogEntry>;
  stableCheckpoint: PbftStableCheckpoint | null;
  messages: PbftMessage[];
  replies: Reply[];
  executed: ExecutedBatch[];
}

/**
 * One PBFT replica as a pure state machine (Castro & Liskov): no clock, no I/O. Driven by
 * tick() (logical time), step(message) (a message from another replica), propose(request) (a
 * client request arriving here); hands back a Ready of what to persist and send.
 *
 * `config.app` must be in its initial state: the constructor restores it from `persisted` (the
 * stable checkpoint's snapshot, then the committed entries replayed in order), so a fresh start
 * and a revival are one code path. `config.crypto` must verify this replica's own signatures too
 * (its own messages come back inside certificates).
 */
export class PbftReplica {
  readonly id: ReplicaId;
  private readonly cfg: PbftConfig;
  /** Mutants switched on for this replica only (config.faults); the global ones are in mutants.ts. */
  private readonly localMutants: ReadonlySet<MutantName> | null;
  private replicas: ReplicaId[] = [];
  private members = new Set<ReplicaId>();
  private q!: Quorums;
  private readonly K: number;
  private readonly L: number;
  private certs!: CertificateContext;

  // configuration (reconfiguration.ts)
  /** An admin principal is configured: the replica set may change, and the gates of rules 1-2 apply. */
  private readonly reconfigurable: boolean;
  /** The configuration in force here. */
  private conf!: PbftConfiguration;
  /** The one before it (it signed the checkpoint at conf.since). */
  private prevConf: PbftConfiguration | null = null;
  /** Decided by execution, in force once checkpoint next.since is stable here. */
  private next: PbftConfiguration | null = null;
  /** The certificates of the configuration changes so far (sent along with transferred states). */
  private links: ConfigurationLink[] = [];
  private switchDue: ConfigurationSwitch | null = null;
  /** Was a member of a configuration in force here and is no longer (it only serves state transfer). */
  private retired = false;
  /** Quorums at start (the pbft.reconfiguration.keep-old-quorum mutant keeps them). */
  private startQuorums!: Quorums;
  /** Normal-case messages for sequence numbers beyond what this replica can judge yet (rule 1), replayed once it can. */
  private early: PbftMessage[] = [];
  private earlyHigh = 0;
  private settling = false;
  private readonly reconfigurations = { applied: 0, refused: 0 };
  /** The configurations in the replicated state ([previous,] latest): in every checkpoint's digest and snapshot. */
  private stateConfs: PbftConfiguration[] = [];
  /** Messages (and requests) whose signature this replica already checked or made. */
  private readonly verified = new WeakSet<object>();
  /** Recently verified requests by content (request digest and signature), oldest first. */
  private readonly verifiedRequests = new Set<string>();

  // view
  private view = 0;
  private active = true;

  // checkpoints and water marks: h = stable checkpoint known (with proof), H = h + L
  private h = 0;
  private stableProof: Checkpoint[] = [];
  /** The latest stable checkpoint whose state is held here (null = the initial state). */
  private stableState: PbftStableCheckpoint | null = null;
  private readonly ownCheckpoints = new Map<number, OwnCheckpoint>();
  private readonly checkpointVotes = new Map<number, Map<ReplicaId, Checkpoint>>();

  // execution
  private lastExecuted = 0;
  /** Requests executed so far (the app's position counter, part of the replicated state). */
  private position = 0;
  private readonly slots = new Map<number, Slot>();
  private readonly replyCache = new Map<string, Reply>();
  /** Per client, the timestamps executed (replicated state: in every checkpoint). */
  private readonly clientTable = new ClientTable();
  /**
   * The ledger head: the hash chain over executed sequence numbers (libs/consensus/src/ledger),
   * replicated state signed in every checkpoint. Null for a state from before the ledger.
   */
  private ledgerHead: string | null = GENESIS_HASH;
  /** Suppresses replies while replaying the persisted log at start. */
  private replaying = false;

  // requests
  private readonly waiting = new Map<string, Waiting>();
  /** Requests in a pre-prepare of the current view, not yet executed: key -> seq. */
  private readonly assigned = new Map<string, number>();
  private forwardBuffer: ClientRequest[] = [];

  // primary
  private seqNext = 0;
  private queue: ClientRequest[] = [];
  private readonly queued = new Set<string>();
  private queueSince = 0;

  // view change
  private readonly viewChanges = new Map<number, Map<ReplicaId, ViewChange>>();
  /** Highest view of a valid VIEW-CHANGE from each replica (the f+1 join rule). */
  private readonly latestViewChange = new Map<ReplicaId, number>();
  private ownViewChange: ViewChange | null = null;
  /** The NEW-VIEW that installed the current view (resent to stragglers). */
  private newView: NewView | null = null;
  private viewChangeDeadline: number | null = null;
  /** Failed views since the last progress: timeouts are base * 2^backoff. */
  private backoff = 0;

  // time, retransmission, state transfer
  private now = 0;
  private nextStatusAt = 1;
  private executedAtLastStatus = 0;
  private fetch: Fetch | null = null;
  /**
   * The stable checkpoint whose certified digest our own state did not match: what this replica
   * executed is wrong from there on. It fetches that checkpoint's state and re-executes the
   * committed batches after it (null: no divergence known).
   */
  private divergedAt: number | null = null;
  private readonly lastServed = new Map<ReplicaId, number>();

  private readonly dropped: Record<string, number> = {};
  private droppedSum = 0;
  /** The condition, once it arose (kept for status; the Outbox hands it out once). */
  private fatal: PbftFatal | null = null;
  private readonly out: Outbox = {
    fatal: null,
    hardState: null,
    newView: null,
    entries: new Map(),
    stableCheckpoint: null,
    messages: [],
    replies: [],
    executed: [],
  };

  constructor(config: PbftConfig, persisted: PbftPersistentState) {
    const trusted = config.configuration ?? { epoch: 0, replicas: config.replicas, since: 0 };
    // A replica outside the configuration it is started with is one joining a reconfigurable cluster.
    if (!trusted.replicas.includes(config.id) && config.admin === undefined) throw new Error(`PbftReplica: ${config.id} is not in replicas`);
    if (new Set(trusted.replicas).size !== trusted.replicas.length) throw new Error('PbftReplica: duplicate replica ids');
    const { checkpointInterval: K, logWindow: L } = config;
    if (!(K >= 1 && L >= 2 * K && L % K === 0)) throw new Error(`PbftReplica: logWindow (${L}) must be a multiple of checkpointInterval (${K}), at least 2K`);
    if (config.maxBatch < 1 || config.requestTimeoutTicks < 1 || config.statusTicks < 1)
      throw new Error('PbftReplica: maxBatch, requestTimeoutTicks and statusTicks must be >= 1');
    this.cfg = config;
    this.id = config.id;
    this.localMutants = localMutants(config.faults, PBFT_FAULT_MUTANTS);
    this.K = K;
    this.L = L;
    this.reconfigurable = config.admin !== undefined;
    this.startQuorums = quorums(trusted.replicas.length, this.off('pbft.quorum.weak'));
    this.installConfiguration({ epoch: trusted.epoch, replicas: [...trusted.replicas], since: trusted.since });
    this.restore(persisted);
    this.earlyHigh = this.actHigh();
  }

  // ---------------------------------------------------------------- public API

  tick(): void {
    this.now++;
    const member = this.members.has(this.id);
    if (!member) {
      // Joining: ask the configuration for a newer state once a status period (reconfiguration.ts).
      if (!this.retired && this.now >= this.nextStatusAt && this.fetch === null)
        this.startFetch('state', Math.max(this.h, this.lastExecuted) + 1, [...this.conf.replicas, ...(this.next?.replicas ?? [])]);
    } else if (this.active) {
      if (this.isPrimary()) this.cutBatches();
      else {
        const oldest = this.waiting.values().next();
        if (!oldest.done && this.now - oldest.value.since >= this.timeout()) this.startViewChange(this.view + 1);
      }
    } else if (this.viewChangeDeadline !== null && this.now >= this.viewChangeDeadline) {
      // The new primary did not deliver: try the next one, and wait twice as long.
      this.backoff++;
      this.startViewChange(this.view + 1);
    }
    if (this.now >= this.nextStatusAt) {
      this.nextStatusAt = this.now + this.cfg.statusTicks;
      if (member) this.broadcastStatus();
      this.executedAtLastStatus = this.lastExecuted;
    }
    if (this.fetch !== null && this.now >= this.fetch.deadline) this.retryFetch();
    this.settle();
  }

  /**
   * A client request arriving at this replica (from the gateway). `relay` false: the client sent it
   * to every replica at once (the primary has it), so a backup only starts its timer; it relays the
   * request when the client retransmits (relay true) and in its periodic re-forwarding.
   */
  propose(request: ClientRequest, relay = true): ProposeResult {
    if ((!wellFormedRequest(request) && !this.off('pbft.message.skip-well-formed')) || !this.verifyRequest(request)) {
      this.drop('bad-request');
      return { ok: false, reason: 'bad-request' };
    }
    const cached = this.replyCache.get(requestKey(request));
    if (cached !== undefined) {
      this.out.replies.push(cached);
      return { ok: false, reason: 'already-executed' };
    }
    if (this.executedBefore(request)) {
      // Its reply fell out of the cache (or a restart lost it): answer from the client table.
      this.out.replies.push(this.reply(request, this.clientTable.resultOf(request) ?? STALE_REQUEST));
      return { ok: false, reason: 'already-executed' };
    }
    this.acceptRequest(request, relay);
    this.settle();
    return { ok: true, primary: this.primaryOf(this.view) };
  }

  /** A message from another replica. Anything that fails a check is dropped and counted. */
  step(m: PbftMessage): void {
    if (!wellFormed(m) && !this.off('pbft.message.skip-well-formed')) return this.drop('malformed');
    if (m.from === this.id) return;
    if (!this.knows(m.from)) return this.drop('non-member');
    // Before the signature check (cheap, and nothing above the ceiling is ever legitimate).
    if ('view' in m && m.view > MAX_VIEW && !this.off('pbft.view.skip-ceiling')) return this.drop('view-beyond-ceiling');
    if (!this.verify(m) && !this.off(SIGNATURE_MUTANT[m.type] ?? 'pbft.auxiliary.skip-signature')) return this.drop('bad-signature');
    this.dispatch(m);
    this.settle();
  }

  private dispatch(m: PbftMessage): void {
    switch (m.type) {
      case 'Forward':
        return this.onForward(m);
      case 'PrePrepare':
        return this.onPrePrepare(m);
      case 'Prepare':
        return this.onPrepare(m);
      case 'Commit':
        return this.onCommit(m);
      case 'Checkpoint':
        return this.onCheckpoint(m);
      case 'ViewChange':
        return this.onViewChange(m);
      case 'NewView':
        return this.onNewView(m);
      case 'Status':
        return this.onStatus(m);
      case 'FetchState':
        return this.onFetchState(m);
      case 'State':
        return this.onState(m);
      case 'FetchCommitted':
        return this.onFetchCommitted(m);
      case 'Committed':
        return this.onCommitted(m);
    }
  }

  hasReady(): boolean {
    this.flushForwards();
    const o = this.out;
    return (
      o.fatal !== null ||
      o.hardState !== null ||
      o.newView !== null ||
      o.entries.size > 0 ||
      o.stableCheckpoint !== null ||
      o.messages.length > 0 ||
      o.replies.length > 0 ||
      o.executed.length > 0
    );
  }

  ready(): PbftReady {
    this.flushForwards();
    const o = this.out;
    return {
      hardState: o.hardState,
      newView: o.newView,
      entries: [...o.entries.values()].sort((a, b) => a.seq - b.seq),
      stableCheckpoint: o.stableCheckpoint,
      messages: o.messages.slice(),
      replies: o.replies.slice(),
      executed: o.executed.slice(),
      fatal: o.fatal,
    };
  }

  /** The runtime persisted and sent `rd`: forget it (anything added since stays). */
  advance(rd: PbftReady): void {
    const o = this.out;
    if (o.fatal === rd.fatal) o.fatal = null;
    if (o.hardState === rd.hardState) o.hardState = null;
    if (o.newView === rd.newView) o.newView = null;
    if (o.stableCheckpoint === rd.stableCheckpoint) o.stableCheckpoint = null;
    for (const e of rd.entries) if (o.entries.get(e.seq) === e) o.entries.delete(e.seq);
    o.messages.splice(0, rd.messages.length);
    o.replies.splice(0, rd.replies.length);
    o.executed.splice(0, rd.executed.length);
  }

  status(): PbftStatus {
    return {
      id: this.id,
      view: this.view,
      primary: this.primaryOf(this.view),
      viewChanging: !this.active,
      lastExecuted: this.lastExecuted,
      stableCheckpoint: this.stableState?.seq ?? 0,
      lowWaterMark: this.h,
      highWaterMark: this.h + this.L,
      pendingRequests: this.waiting.size,
      logSize: this.slots.size,
      dropped: { ...this.dropped },
      fatal: this.fatal,
      configuration: configurationStatus(this.conf),
      nextConfiguration: this.next === null ? null : configurationStatus(this.next),
      member: this.members.has(this.id),
      reconfigurations: { ...this.reconfigurations },
    };
  }

  /** Messages dropped so far, all reasons: a runtime tells from it which incoming message was dropped. */
  get droppedTotal(): number {
    return this.droppedSum;
  }

  /** The fault lab's closer look (PbftInspection): read-only, for display. */
  inspect(limit: number): PbftInspection {
    // Slots with a pre-prepare: votes alone (a Byzantine peer's near H, say) make a slot but no proposal.
    const seqs = [...this.slots.values()]
      .filter((s) => s.prePrepare !== null)
      .map((s) => s.seq)
      .sort((a, b) => a - b)
      .slice(-limit);
    const slots = seqs.map((seq): [number, number, number, number] => {
      const slot = this.slots.get(seq)!;
      return [seq, slot.prepares.size, slot.commits.size, slot.committed !== null ? 1 : 0];
    });
    if (this.active) return { slots };
    return { slots, viewChange: { to: this.view, from: [...(this.viewChanges.get(this.view)?.keys() ?? [])] } };
  }

  primaryOf(view: number): ReplicaId {
    return this.replicas[view % this.replicas.length];
  }

  isPrimary(): boolean {
    return this.primaryOf(this.view) === this.id;
  }

  // ---------------------------------------------------------------- start-up

  /** Fresh start and revival are one path: the stable checkpoint, then replay of committed entries. */
  private restore(ps: PbftPersistentState): void {
    this.view = ps.hardState.view;
    this.active = ps.hardState.active;
    this.checkViewCeiling(); // a durable view written before the ceiling existed
    if (this.active && ps.newView !== null && ps.newView.view === this.view) this.newView = ps.newView;
    this.stateConfs = [this.conf];
    const cp = ps.stableCheckpoint;
    if (cp !== null && cp.seq > 0) {
      const configs = this.restoreState(cp.snapshot);
      const latest = configs[configs.length - 1];
      if (latest !== undefined && latest.epoch >= this.conf.epoch) {
        // The configuration in force is the one the stored checkpoint's state names (it is in its digest).
        this.stateConfs = configs;
        this.prevConf = configs.length > 1 ? configs[configs.length - 2] : null;
        this.installConfiguration(latest);
        this.links = cp.links ?? [];
      }
      if (this.stateDigest(cp.position) !== cp.digest) throw new Error(`PbftReplica: stored checkpoint ${cp.seq} does not match its digest`);
      this.h = cp.seq;
      this.lastExecuted = cp.seq;
      this.position = cp.position;
      this.stableProof = cp.proof;
      this.stableState = cp;
    }
    const known = ps.hardState.lowWaterMark;
    if (known !== undefined && known.seq > this.h) {
      // A stable checkpoint whose state was still being fetched when this replica went down.
      this.h = known.seq;
      this.stableProof = known.proof;
    }
    for (const e of ps.entries) {
      if (e.seq <= this.h || e.seq > this.h + this.L) continue;
      this.slots.set(e.seq, Slot.fromEntry(e));
    }
    for (const slot of this.slots.values()) {
      const pp = slot.prePrepareIn(this.view);
      if (pp === null) continue;
      if (pp.from === this.id && slot.seq > this.seqNext) this.seqNext = slot.seq;
      for (const r of pp.requests) this.assigned.set(requestKey(r), slot.seq);
      if (!this.active) continue;
      // Rebuild the votes this replica had sent, for retransmission (same content, same signature).
      slot.votesFor(this.view);
      if (pp.from !== this.id) this.ownPrepareFor(slot, pp);
      if (slot.isPreparedIn(this.view)) this.ownCommitFor(slot);
    }
    this.seqNext = Math.max(this.seqNext, this.h);
    // Rule 4 (reconfiguration.ts): active in a view of a changed configuration only with that
    // configuration's NEW-VIEW (its VIEW-CHANGEs all start at or after the configuration's boundary).
    if (this.active && this.conf.epoch > 0 && this.members.has(this.id) && !this.newViewOfConfiguration(ps.newView)) {
      this.view = Math.min(this.view + 1, MAX_VIEW);
      this.active = false;
      this.persistHardState();
    }
    this.replaying = true;
    this.executeReady();
    this.replaying = false;
    if (this.lastExecuted < this.h)
      this.startFetch(
        'state',
        this.h,
        this.stableProof.map((c) => c.from),
      );
    if (!this.active) this.sendViewChange();
  }

  // ---------------------------------------------------------------- requests

  private acceptRequest(r: ClientRequest, relay: boolean): void {
    const key = requestKey(r);
    if (this.replyCache.has(key) || this.executedBefore(r)) return;
    if (!this.waiting.has(key)) this.waiting.set(key, { request: r, since: this.now });
    if (!this.active) return;
    if (this.isPrimary()) this.enqueue(r);
    else if (relay) this.forwardBuffer.push(r);
  }

  /**
   * `r` is ordered at `seq` in this view. Its timer restarts: from here on it measures the
   * agreement on that sequence number, not the wait in the primary's queue, so that a loaded
   * primary that orders in time is not replaced, and a pre-prepare that never commits still is.
   */
  private assign(r: ClientRequest, seq: number): void {
    const key = requestKey(r);
    this.assigned.set(key, seq);
    const w = this.waiting.get(key);
    if (w !== undefined) w.since = this.now;
  }

  private onForward(m: Forward): void {
    if (!this.members.has(m.from)) return this.drop('non-member');
    if (!this.active || m.view !== this.view || !this.isPrimary()) return this.drop('not-primary');
    for (const r of m.requests) {
      if (!this.verifyRequest(r)) {
        this.drop('bad-request');
        continue;
      }
      this.acceptRequest(r, false);
    }
  }

  private flushForwards(): void {
    if (this.forwardBuffer.length === 0) return;
    const requests = this.forwardBuffer;
    this.forwardBuffer = [];
    if (!this.active || this.isPrimary()) return;
    const primary = this.primaryOf(this.view);
    this.send(primary, this.sign<Forward>({ type: 'Forward', from: this.id, to: primary, view: this.view, requests }));
  }

  private enqueue(r: ClientRequest): void {
    const key = requestKey(r);
    if (this.queued.has(key) || this.assigned.has(key) || this.replyCache.has(key)) return;
    if (this.queue.length === 0) this.queueSince = this.now;
    this.queue.push(r);
    this.queued.add(key);
    this.cutBatches();
  }

  /**
   * The primary orders a batch when it is full or its oldest request waited batchTicks, within H,
   * while fewer than maxInflightBatches of its batches wait to be executed (executeReady calls
   * again when one is).
   */
  private cutBatches(): void {
    const inflightCap = this.cfg.maxInflightBatches ?? DEFAULT_INFLIGHT_BATCHES;
    // A decided reconfiguration takes over at its boundary: fill up to it with null requests if no
    // client requests come (reconfiguration.ts, rule 2).
    const fillTo = this.next !== null ? this.next.since : 0;
    while (
      this.active &&
      this.isPrimary() &&
      (this.queue.length > 0 || this.seqNext < fillTo) &&
      this.seqNext < this.actHigh() &&
      this.seqNext - Math.max(this.lastExecuted, this.h) < inflightCap
    ) {
      if (this.queue.length < this.cfg.maxBatch && this.now - this.queueSince < this.cfg.batchTicks && this.seqNext >= fillTo) return;
      const batch: ClientRequest[] = [];
      while (batch.length < this.cfg.maxBatch && this.queue.length > 0) {
        const r = this.queue.shift()!;
        const key = requestKey(r);
        this.queued.delete(key);
        if (!this.replyCache.has(key) && !this.assigned.has(key) && !this.executedBefore(r)) batch.push(r);
      }
      this.queueSince = this.now;
      if (batch.length === 0 && this.seqNext >= fillTo) continue;
      this.issuePrePrepare(++this.seqNext, batch);
    }
  }

  private issuePrePrepare(seq: number, requests: ClientRequest[]): void {
    const pp = this.sign<PrePrepare>({ type: 'PrePrepare', from: this.id, to: null, view: this.view, seq, digest: batchDigest(requests), requests });
    const slot = this.slot(seq);
    slot.votesFor(this.view);
    slot.prePrepare = pp;
    for (const r of requests) this.assign(r, seq);
    this.persist(slot);
    this.broadcast(pp);
    this.checkPrepared(slot);
  }

  // ---------------------------------------------------------------- normal case

  /** Why a normal-case message of view `v` cannot be taken now (null = it can). */
  private viewProblem(v: number): string | null {
    if (v < this.view) return 'stale-view';
    if (v > this.view) return 'wrong-view';
    return this.active ? null : 'view-changing';
  }

  private inWindow(seq: number): boolean {
    return seq > this.h && seq <= this.h + this.L;
  }

  private onPrePrepare(pp: PrePrepare): void {
    const problem = this.viewProblem(pp.view);
    if (problem !== null && !this.off('pbft.preprepare.skip-view-check')) return this.drop(problem);
    if (!this.inWindow(pp.seq) && !this.off('pbft.watermark.skip')) return this.drop('out-of-window');
    if (!this.canAct(pp.seq)) return this.holdEarly(pp);
    if (pp.from !== this.primaryOf(this.view) && !this.off('pbft.preprepare.skip-primary-check')) return this.drop('not-primary');
    if (pp.requests.length > this.cfg.maxBatch) return this.drop('batch-too-large');
    if (batchDigest(pp.requests) !== pp.digest && !this.off('pbft.preprepare.skip-digest-check')) return this.drop('digest-mismatch');
    const accepted = this.slots.get(pp.seq)?.prePrepareIn(this.view) ?? null;
    const conflicting = accepted !== null && accepted.digest !== pp.digest && this.off('pbft.preprepare.accept-conflicting');
    if (accepted !== null && !conflicting) {
      if (accepted.digest !== pp.digest) this.drop('conflicting-pre-prepare');
      return;
    }
    for (const r of pp.requests) if (!this.verifyRequest(r)) return this.drop('bad-request');
    // A request this replica has executed already, proposed again: the primary is faulty (it will
    // not be executed anyway; refusing the pre-prepare lets the view change replace the primary).
    if (pp.seq > this.lastExecuted && pp.requests.some((r) => this.executedBefore(r)) && !this.off('pbft.preprepare.accept-executed-request'))
      return this.drop('stale-request');
    const slot = this.slot(pp.seq);
    slot.votesFor(this.view);
    if (conflicting) slot.ownPrepare = null; // the mutant prepares the second digest too
    slot.prePrepare = pp;
    for (const r of pp.requests) this.assign(r, pp.seq);
    this.persist(slot);
    this.broadcast(this.ownPrepareFor(slot, pp));
    this.checkPrepared(slot);
  }

  private onPrepare(p: Prepare): void {
    // Votes for the view being changed to are kept: they may arrive before its NEW-VIEW.
    if (p.view !== this.view && !this.off('pbft.vote.skip-view-check')) return this.drop(p.view < this.view ? 'stale-view' : 'wrong-view');
    if (!this.inWindow(p.seq) && !this.off('pbft.watermark.skip')) return this.drop('out-of-window');
    if (!this.canAct(p.seq)) return this.holdEarly(p);
    if (!this.members.has(p.from)) return this.drop('non-member');
    if (!this.q.primaryMayPrepare && p.from === this.primaryOf(p.view) && !this.off('pbft.prepare.count-primary')) return this.drop('prepare-from-primary');
    const slot = this.slot(p.seq);
    slot.votesFor(this.view);
    if (slot.prepares.has(p.from)) return;
    slot.prepares.set(p.from, p);
    this.checkPrepared(slot);
  }

  private onCommit(c: Commit): void {
    if (c.view !== this.view && !this.off('pbft.vote.skip-view-check')) return this.drop(c.view < this.view ? 'stale-view' : 'wrong-view');
    if (!this.inWindow(c.seq) && !this.off('pbft.watermark.skip')) return this.drop('out-of-window');
    if (!this.canAct(c.seq)) return this.holdEarly(c);
    if (!this.members.has(c.from)) return this.drop('non-member');
    const slot = this.slot(c.seq);
    slot.votesFor(this.view);
    if (slot.commits.has(c.from)) return;
    slot.commits.set(c.from, c);
    this.checkCommitted(slot);
  }

  /** prepared(m, v, n): the pre-prepare plus 2f matching prepares from distinct backups. */
  private checkPrepared(slot: Slot): void {
    if (!this.active || !this.canAct(slot.seq)) return;
    const pp = slot.prePrepareIn(this.view);
    if (pp === null || slot.isPreparedIn(this.view)) return;
    const matching: Prepare[] = [];
    const anyDigest = this.off('pbft.vote.count-mismatched-digest');
    for (const p of slot.prepares.values()) if (p.digest === pp.digest || anyDigest) matching.push(p);
    if (matching.length < this.q.prepare) return;
    slot.prepared = { prePrepare: pp, prepares: matching.slice(0, this.q.prepare) };
    this.persist(slot);
    this.broadcast(this.ownCommitFor(slot));
    this.checkCommitted(slot);
  }

  /** committed-local(m, v, n): prepared plus 2f+1 matching commits (own included). */
  private checkCommitted(slot: Slot): void {
    if (!this.active || slot.committed !== null || !slot.isPreparedIn(this.view) || !this.canAct(slot.seq)) return;
    const pp = slot.prepared!.prePrepare;
    const matching: Commit[] = [];
    const anyDigest = this.off('pbft.vote.count-mismatched-digest');
    for (const c of slot.commits.values()) if (c.digest === pp.digest || anyDigest) matching.push(c);
    if (matching.length < this.q.commit) return;
    slot.committed = { view: this.view, seq: slot.seq, digest: pp.digest, requests: pp.requests, commits: matching.slice(0, this.q.commit) };
    this.persist(slot);
    if (this.off('pbft.execute.skip-order') && slot.seq > this.lastExecuted + 1 && this.lastExecuted >= this.h) return this.execute(slot.committed);
    this.executeReady();
  }

  private ownPrepareFor(slot: Slot, pp: PrePrepare): Prepare {
    if (slot.ownPrepare === null) {
      slot.ownPrepare = this.sign<Prepare>({ type: 'Prepare', from: this.id, to: null, view: pp.view, seq: pp.seq, digest: pp.digest });
      slot.prepares.set(this.id, slot.ownPrepare);
    }
    return slot.ownPrepare;
  }

  private ownCommitFor(slot: Slot): Commit {
    if (slot.ownCommit === null) {
      const pp = slot.prepared!.prePrepare;
      slot.ownCommit = this.sign<Commit>({ type: 'Commit', from: this.id, to: null, view: pp.view, seq: pp.seq, digest: pp.digest });
      slot.commits.set(this.id, slot.ownCommit);
    }
    return slot.ownCommit;
  }

  // ---------------------------------------------------------------- execution

  /** Executes committed batches strictly in sequence order (only with the state at h in hand). */
  private executeReady(): void {
    const before = this.lastExecuted;
    while (this.lastExecuted >= this.h && this.lastExecuted < this.actHigh()) {
      const slot = this.slots.get(this.lastExecuted + 1);
      if (slot === undefined || slot.committed === null) break;
      this.execute(slot.committed);
    }
    // Room in the primary's pipeline: what queued meanwhile leaves as one batch.
    if (this.lastExecuted > before) this.cutBatches();
  }

  /** Its client's timestamp was executed (or is older than the client's window): C&L §4.1. */
  private executedBefore(r: ClientRequest): boolean {
    return !this.off('pbft.request.skip-timestamp-check') && this.clientTable.stale(r);
  }

  private reply(r: ClientRequest, result: Uint8Array): Reply {
    const body = { type: 'Reply' as const, from: this.id, to: r.client, view: this.view, id: r.id, result };
    return { ...body, sig: (this.cfg.signReply ?? this.cfg.crypto.sign)(replyPayload(body)) };
  }

  private execute(cert: CommitCertificate): void {
    const results: ExecutedRequest[] = [];
    for (const r of cert.requests) {
      const key = requestKey(r);
      const again = this.executedBefore(r);
      // Executed before (or older than the client's window): never again. The client gets the
      // first result once more (a retransmission whose reply was lost), or, past the window, a
      // definite refusal — never a second effect.
      let result: Uint8Array;
      if (again) {
        result = this.clientTable.resultOf(r) ?? STALE_REQUEST;
      } else if (isReconfiguration(r.op)) {
        // The core's own request: the app never sees it, the position does not move.
        result = this.decideReconfiguration(r, cert.seq);
        this.clientTable.record(r, cert.seq, result);
      } else {
        this.position++;
        try {
          result = this.cfg.app.execute(this.position, r.op, r.client);
        } catch {
          result = EXECUTION_ERROR;
        }
        this.clientTable.record(r, cert.seq, result);
      }
      const reply = this.reply(r, result);
      this.replyCache.delete(key);
      this.replyCache.set(key, reply);
      if (this.replyCache.size > REPLY_CACHE) this.replyCache.delete(this.replyCache.keys().next().value!);
      if (!this.replaying) this.out.replies.push(reply);
      this.waiting.delete(key);
      this.assigned.delete(key);
      if (!again) results.push({ client: r.client, id: r.id, position: this.position, result });
    }
    this.lastExecuted = cert.seq;
    const batch: ExecutedBatch = { seq: cert.seq, digest: cert.digest, requests: results };
    if (this.ledgerHead !== null) {
      batch.prevHash = this.ledgerHead;
      batch.hash = this.ledgerHead = pbftBlockHash(this.ledgerHead, batch);
    }
    this.out.executed.push(batch);
    if (this.active) this.backoff = 0;
    if (cert.seq % this.K === 0) this.takeCheckpoint(cert.seq);
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * The digest a checkpoint signs: the replicated state's (below) with the ledger head, so a stable
   * certificate certifies the head. A state from before the ledger has none and signs the state's
   * digest alone, as it did then.
   */
  private stateDigest(position: number): string {
    return checkpointLedgerDigest(this.appStateDigest(position), this.ledgerHead);
  }

  /**
   * The digest of the replicated state at `position`: the app's and the client table's. An empty
   * table adds nothing, so checkpoints stored before the table existed still verify.
   */
  private appStateDigest(position: number, configs: readonly PbftConfiguration[] = this.stateConfs, part = this.statePart()): string {
    // Once the replica set changed, the configurations too (reconfiguration.ts).
    return checkpointDigest(position, withConfiguration(part, configs));
  }

  /** The app's and the client table's share of the digest. */
  private statePart(): string {
    const app = this.cfg.app.digest();
    return this.clientTable.size === 0 ? app : `${app}:clients:${this.clientTable.digest()}`;
  }

  /** Restores app, client table and ledger head; returns the configurations the state names (none before the first change). */
  private restoreState(snapshot: Uint8Array): PbftConfiguration[] {
    const { app, clients, ledgerHead, configs } = unpackState(snapshot);
    this.cfg.app.restore(app);
    this.clientTable.load(clients);
    this.ledgerHead = ledgerHead;
    return configs;
  }

  /** The ledger part of a stable checkpoint held here (what a client checks the certificate with). */
  private ledgerOf(position: number): { stateDigest: string; head: string } | undefined {
    return this.ledgerHead === null ? undefined : { stateDigest: this.appStateDigest(position), head: this.ledgerHead };
  }

  private takeCheckpoint(seq: number): void {
    // The app's digest is O(state): taken once here for the signed digest, the part and the ledger.
    const part = this.statePart();
    const appDigest = this.appStateDigest(this.position, this.stateConfs, part);
    const digest = checkpointLedgerDigest(appDigest, this.ledgerHead);
    const msg = this.sign<Checkpoint>({ type: 'Checkpoint', from: this.id, to: null, seq, digest });
    const own: OwnCheckpoint = {
      msg,
      position: this.position,
      snapshot: packState(this.cfg.app.snapshot(), this.clientTable, this.ledgerHead, this.stateConfs),
      part,
    };
    if (this.ledgerHead !== null) own.ledger = { stateDigest: appDigest, head: this.ledgerHead };
    this.ownCheckpoints.set(seq, own);
    this.broadcast(msg);
    this.recordCheckpoint(msg);
  }

  private onCheckpoint(c: Checkpoint): void {
    if (c.seq <= this.h) return;
    if (c.seq % this.K !== 0) return this.drop('bad-checkpoint');
    if (!this.signersOf(c.seq).replicas.includes(c.from)) return this.drop('non-member');
    this.recordCheckpoint(c);
  }

  private recordCheckpoint(c: Checkpoint): void {
    let votes = this.checkpointVotes.get(c.seq);
    if (votes === undefined) {
      votes = new Map();
      this.checkpointVotes.set(c.seq, votes);
    }
    const earlier = votes.get(c.from);
    if (earlier !== undefined && earlier.digest === c.digest) return;
    if (earlier === undefined) {
      votes.set(c.from, c);
      this.boundCheckpointVotes(c.from, c.seq);
    }
    // A sender that voted another digest before is faulty, but its signature on this one still
    // counts towards this digest's certificate (as in any relayed proof): else a replica that says
    // one thing to us and relays the other in its stable proof keeps 2f+1 from ever forming here,
    // while the replicas it showed the proof to move on and fetch a state nobody here can serve.
    // Only its first vote is kept (memory stays bounded).
    // Counted in the configuration that ran sequence number c.seq (reconfiguration.ts).
    const signers = this.signersOf(c.seq);
    const q = this.quorumsOf(signers);
    const counts = (id: ReplicaId): boolean => signers === this.conf || signers.replicas.includes(id);
    const matching: Checkpoint[] = earlier === undefined ? [] : [c];
    const anyDigest = this.off('pbft.checkpoint.skip-digest-match');
    for (const v of votes.values()) if ((v.digest === c.digest || anyDigest) && counts(v.from)) matching.push(v);
    if (matching.length >= q.strong) this.adoptStableCheckpoint(c.seq, c.digest, matching.slice(0, q.strong));
  }

  /**
   * A peer keeps at most L/K + 2 open checkpoint votes here (its lowest go first), never losing the
   * one just recorded (`kept`) before it is counted: a peer that filled its share with far-future
   * votes would otherwise have its genuine vote for the next stable checkpoint dropped on arrival,
   * even when relayed inside another replica's stable proof, and a lagging replica that needs that
   * vote for 2f+1 could never learn the checkpoint.
   */
  private boundCheckpointVotes(from: ReplicaId, kept: number): void {
    const max = this.L / this.K + 2;
    if (this.checkpointVotes.size <= max) return;
    const mine = [...this.checkpointVotes.entries()].filter(([s, v]) => s !== kept && v.has(from)).map(([s]) => s);
    if (mine.length + 1 <= max) return;
    mine.sort((a, b) => a - b);
    for (const s of mine.slice(0, mine.length + 1 - max)) {
      const v = this.checkpointVotes.get(s)!;
      v.delete(from);
      if (v.size === 0) this.checkpointVotes.delete(s);
    }
  }

  /** A stable checkpoint certificate: move h, collect garbage, fetch the state if it is not here. */
  private adoptStableCheckpoint(seq: number, digest: string, proof: Checkpoint[]): void {
    if (seq <= this.h) return;
    this.h = seq;
    this.stableProof = proof;
    this.persistHardState();
    const own = this.ownCheckpoints.get(seq);
    if (own !== undefined && own.msg.digest === digest) {
      // The boundary of a decided reconfiguration is stable with its state here: the new configuration takes over (rule 3).
      if (this.next !== null && seq === this.next.since && this.switchDue === null) {
        const link: ConfigurationLink = {
          configuration: this.next,
          seq,
          digest,
          position: own.position,
          part: own.part,
          head: own.ledger?.head ?? null,
          proof,
        };
        this.switchDue = { conf: this.next, prev: this.conf, links: [...this.links, link] };
      }
      const links = this.switchDue?.links ?? this.links;
      this.stableState = {
        seq,
        digest,
        position: own.position,
        snapshot: own.snapshot,
        proof,
        ...(own.ledger ? { ledger: own.ledger } : {}),
        ...(links.length > 0 ? { links } : {}),
      };
      this.out.stableCheckpoint = this.stableState;
    } else if (own !== undefined) {
      this.drop('checkpoint-mismatch');
      if (!this.off('pbft.checkpoint.skip-divergence-repair')) this.divergedAt = seq;
    }
    this.collectGarbage();
    if (this.divergedAt === seq)
      this.startFetch(
        'state',
        seq,
        proof.map((c) => c.from),
      );
    else if (this.lastExecuted < this.h)
      this.startFetch(
        'state',
        this.h,
        proof.map((c) => c.from),
      );
    if (this.isPrimary() && this.active) {
      this.seqNext = Math.max(this.seqNext, this.h);
      this.cutBatches();
    }
  }

  private collectGarbage(): void {
    for (const seq of [...this.slots.keys()]) if (seq <= this.h) this.slots.delete(seq);
    for (const seq of [...this.ownCheckpoints.keys()]) if (seq <= this.h) this.ownCheckpoints.delete(seq);
    for (const seq of [...this.checkpointVotes.keys()]) if (seq <= this.h) this.checkpointVotes.delete(seq);
    for (const seq of [...this.out.entries.keys()]) if (seq <= this.h) this.out.entries.delete(seq);
    for (const [key, seq] of this.assigned) if (seq <= this.h) this.assigned.delete(key);
  }

  // ---------------------------------------------------------------- view change

  /** A replica holding MAX_VIEW can never change view again: report it, once. */
  private checkViewCeiling(): void {
    if (this.view < MAX_VIEW || this.fatal !== null || this.off('pbft.view.skip-ceiling')) return;
    this.fatal = { reason: 'view-exhausted', view: this.view };
    this.out.fatal = this.fatal;
  }

  private timeout(): number {
    return this.cfg.requestTimeoutTicks * 2 ** Math.min(this.backoff, MAX_BACKOFF);
  }

  /** Stops accepting normal-case messages of the current view and votes for `target`. */
  private startViewChange(target: number): void {
    if (target <= this.view) return;
    // No view left to move to: peers would drop the VIEW-CHANGE, so say so instead (once).
    if (target > MAX_VIEW && !this.off('pbft.view.skip-ceiling')) return this.checkViewCeiling();
    this.view = target;
    this.checkViewCeiling();
    this.active = false;
    this.persistHardState();
    this.newView = null;
    this.viewChangeDeadline = null;
    this.queue = [];
    this.queued.clear();
    this.assigned.clear();
    this.forwardBuffer = [];
    this.sendViewChange();
    for (const v of [...this.viewChanges.keys()]) if (v < this.view) this.viewChanges.delete(v);
    this.checkViewChangeQuorum();
  }

  private sendViewChange(): void {
    const prepared: PreparedCertificate[] = [];
    if (!this.off('pbft.view-change.drop-prepared-set')) {
      const seqs = [...this.slots.keys()].sort((a, b) => a - b);
      for (const seq of seqs) {
        const p = this.slots.get(seq)!.prepared;
        if (seq > this.h && p !== null) prepared.push(p);
      }
    }
    const vc = this.sign<ViewChange>({
      type: 'ViewChange',
      from: this.id,
      to: null,
      view: this.view,
      stableSeq: this.h,
      checkpointProof: this.stableProof,
      prepared,
    });
    this.ownViewChange = vc;
    this.recordViewChange(vc);
    this.broadcast(vc);
  }

  /** Keeps one VIEW-CHANGE per sender, of its highest view (views only go up for a correct replica). */
  private recordViewChange(vc: ViewChange): void {
    const latest = this.latestViewChange.get(vc.from);
    if (latest !== undefined && vc.view < latest) return;
    if (latest !== undefined && vc.view > latest) {
      const old = this.viewChanges.get(latest);
      old?.delete(vc.from);
      if (old !== undefined && old.size === 0) this.viewChanges.delete(latest);
    }
    this.latestViewChange.set(vc.from, vc.view);
    let byFrom = this.viewChanges.get(vc.view);
    if (byFrom === undefined) {
      byFrom = new Map();
      this.viewChanges.set(vc.view, byFrom);
    }
    // For the same view the latest wins: a revived replica may resend a fuller one.
    byFrom.set(vc.from, vc);
  }

  private onViewChange(vc: ViewChange): void {
    if (vc.view < this.view || (vc.view === this.view && this.active)) {
      // A straggler: the NEW-VIEW it missed brings it here.
      if (this.active && this.newView !== null) this.send(vc.from, this.newView);
      return;
    }
    if (!this.members.has(vc.from)) return this.drop('non-member');
    const problem = this.viewChangeProblem(vc);
    if (problem !== null) return this.drop(problem);
    if (!validViewChange(this.certs, vc)) return this.drop('bad-view-change');
    this.recordViewChange(vc);
    // f+1 replicas want a higher view: at least one is correct, so join (the smallest of those views).
    const higher: number[] = [];
    for (const [from, v] of this.latestViewChange) if (from !== this.id && v > this.view) higher.push(v);
    const join = this.off('pbft.view-change.join-on-one') ? 1 : this.q.weak;
    if (higher.length >= join) {
      higher.sort((a, b) => b - a);
      this.startViewChange(higher[join - 1]);
      return;
    }
    if (!this.active) this.checkViewChangeQuorum();
  }

  /**
   * 2f+1 replicas are changing to this view or beyond: arm the timer (the paper counts this view
   * only, but a replica that restarted, or whose peers already gave up on this view, would then
   * wait forever). 2f+1 VIEW-CHANGEs for exactly this view: the new primary issues NEW-VIEW.
   */
  private checkViewChangeQuorum(): void {
    if (this.active) return;
    if (this.viewChangeDeadline === null) {
      let changing = 0;
      for (const v of this.latestViewChange.values()) if (v >= this.view) changing++;
      if (changing >= this.q.strong) this.viewChangeDeadline = this.now + this.timeout();
    }
    const byFrom = this.viewChanges.get(this.view);
    if (byFrom === undefined || byFrom.size < this.q.strong) return;
    if (this.primaryOf(this.view) !== this.id) return;
    const vcs = [this.ownViewChange!, ...[...byFrom.values()].filter((vc) => vc.from !== this.id)].slice(0, this.q.strong);
    const plan = planNewView(vcs);
    const prePrepares = plan.batches.map((b) =>
      this.sign<PrePrepare>({ type: 'PrePrepare', from: this.id, to: null, view: this.view, seq: b.seq, digest: b.digest, requests: b.requests }),
    );
    const nv = this.sign<NewView>({ type: 'NewView', from: this.id, to: null, view: this.view, viewChanges: vcs, prePrepares });
    this.broadcast(nv);
    this.enterNewView(nv, plan);
  }

  private onNewView(nv: NewView): void {
    if (nv.view < this.view || (nv.view === this.view && this.active)) return;
    if (nv.from !== this.primaryOf(nv.view) && !this.off('pbft.new-view.skip-primary-check')) return this.drop('not-primary');
    const anyQuorum = this.off('pbft.new-view.skip-quorum');
    const unsigned = this.off('pbft.new-view.skip-view-change-signatures');
    const senders = new Set<string>();
    for (const vc of nv.viewChanges) {
      const problem = this.viewChangeProblem(vc);
      if (problem !== null) return this.drop(problem === 'configuration-ahead' ? problem : 'bad-new-view');
      const counts = vc.view === nv.view && !senders.has(vc.from) && this.members.has(vc.from);
      if ((!counts && !anyQuorum) || (!unsigned && !this.verify(vc)) || !validViewChange(this.certs, vc)) {
        return this.drop('bad-new-view');
      }
      senders.add(vc.from);
    }
    if (senders.size < this.q.strong && !anyQuorum) return this.drop('bad-new-view');
    // O must be exactly what V dictates.
    const plan = planNewView(nv.viewChanges);
    const recompute = !this.off('pbft.new-view.skip-recompute');
    if (recompute && nv.prePrepares.length !== plan.batches.length) return this.drop('bad-new-view');
    for (let i = 0; i < nv.prePrepares.length; i++) {
      const pp = nv.prePrepares[i];
      const b = plan.batches[i];
      if (
        pp.view !== nv.view ||
        (recompute && (pp.seq !== b.seq || pp.digest !== b.digest)) ||
        pp.from !== nv.from ||
        batchDigest(pp.requests) !== pp.digest ||
        !this.verify(pp)
      ) {
        return this.drop('bad-new-view');
      }
    }
    this.enterNewView(nv, plan);
  }

  private enterNewView(nv: NewView, plan: NewViewPlan): void {
    this.view = nv.view;
    this.checkViewCeiling();
    this.active = true;
    this.newView = nv;
    this.viewChangeDeadline = null;
    this.persistHardState();
    this.out.newView = nv;
    this.queue = [];
    this.queued.clear();
    this.assigned.clear();
    if (plan.minS > this.h) this.adoptStableCheckpoint(plan.minS, plan.minSDigest!, plan.minSProof);
    const primary = this.isPrimary();
    for (const pp of nv.prePrepares) {
      if (!this.inWindow(pp.seq)) continue;
      const slot = this.slot(pp.seq);
      slot.votesFor(this.view);
      slot.prePrepare = pp;
      for (const r of pp.requests) this.assign(r, pp.seq);
      this.persist(slot);
      // Beyond what this replica can judge yet (rule 1): held, voted on once it can (wakeSlots).
      if (!this.canAct(pp.seq)) continue;
      if (!primary) this.broadcast(this.ownPrepareFor(slot, pp));
      this.checkPrepared(slot);
    }
    if (primary) this.seqNext = Math.max(plan.maxS, this.h);
    for (const v of [...this.viewChanges.keys()]) if (v <= this.view) this.viewChanges.delete(v);
    // Every waiting request gets a fresh timer in the new view and goes to the new primary.
    for (const w of this.waiting.values()) w.since = this.now;
    this.routeWaiting();
  }

  /** Hands unordered waiting requests to the primary (queue or Forward). */
  private routeWaiting(limit = Infinity, minAge = 0): void {
    if (!this.active) return;
    let n = 0;
    for (const [key, w] of this.waiting) {
      if (this.assigned.has(key) || this.now - w.since < minAge) continue;
      if (n++ >= limit) return;
      if (this.isPrimary()) this.enqueue(w.request);
      else this.forwardBuffer.push(w.request);
    }
  }

  // ---------------------------------------------------------------- retransmission

  private broadcastStatus(): void {
    const base = Math.max(this.lastExecuted, this.h);
    const slots: number[] = [];
    for (let seq = base + 1; seq <= this.h + this.L; seq++) {
      const slot = this.slots.get(seq);
      let bits = 0;
      if (slot !== undefined) {
        if (slot.prePrepareIn(this.view) !== null) bits |= 1;
        if (slot.isPreparedIn(this.view)) bits |= 2;
        if (slot.committed !== null) bits |= 4;
      }
      slots.push(bits);
    }
    while (slots.length > 0 && slots[slots.length - 1] === 0) slots.pop();
    this.broadcast(
      this.sign<Status>({
        type: 'Status',
        from: this.id,
        to: null,
        view: this.view,
        active: this.active,
        stableSeq: this.h,
        lastExecuted: this.lastExecuted,
        slots,
      }),
    );
    // Requests the primary left unordered for a status period may never have reached it (a fresh
    // one is there already: clients send each request to every replica).
    if (this.active && !this.isPrimary()) this.routeWaiting(REFORWARD_BATCHES * this.cfg.maxBatch, this.cfg.statusTicks);
  }

  /** A peer says where it is: resend what it lacks (view change, checkpoints, this view's votes). */
  private onStatus(s: Status): void {
    const peer = s.from;
    // A replica of another configuration (leaving, or not yet in) only learns where the checkpoints are.
    const member = this.members.has(peer) && this.members.has(this.id);
    if (member && (s.view < this.view || (s.view === this.view && !s.active))) {
      if (this.active && this.newView !== null) this.send(peer, this.newView);
      else if (!this.active && this.ownViewChange !== null && this.ownViewChange.view === this.view) this.send(peer, this.ownViewChange);
    }
    if (s.stableSeq < this.h) for (const c of this.stableProof) this.send(peer, c);
    for (const [seq, own] of this.ownCheckpoints) if (seq > s.stableSeq) this.send(peer, own.msg);
    if (member && s.view === this.view && s.active && this.active) {
      const base = Math.max(s.lastExecuted, s.stableSeq);
      const primary = this.isPrimary();
      for (let seq = Math.max(base, this.h) + 1; seq <= this.h + this.L; seq++) {
        const slot = this.slots.get(seq);
        if (slot === undefined) continue;
        const pp = slot.prePrepareIn(this.view);
        if (pp === null) continue;
        const bits = s.slots[seq - base - 1] ?? 0;
        if (primary && (bits & 1) === 0) this.send(peer, pp);
        if (slot.ownPrepare !== null && slot.votesView === this.view && (bits & 2) === 0) this.send(peer, slot.ownPrepare);
        if (slot.ownCommit !== null && slot.votesView === this.view && (bits & 4) === 0) this.send(peer, slot.ownCommit);
      }
    }
    // Behind a peer and not moving: ask it for the committed batches.
    // A peer with a later stable checkpoint while this replica stands still: perhaps signed by a
    // configuration it does not know yet (its proofs cannot be judged here), so ask for the state,
    // which brings the chain of configuration changes along (reconfiguration.ts).
    if (this.reconfigurable && s.stableSeq > this.h && this.fetch === null && this.lastExecuted === this.executedAtLastStatus)
      this.startFetch('state', this.h + 1, [peer]);
    if (member && s.lastExecuted > this.lastExecuted && this.lastExecuted >= this.h && this.fetch === null && this.lastExecuted === this.executedAtLastStatus) {
      this.startFetch('committed', this.lastExecuted, [peer]);
    }
  }

  // ---------------------------------------------------------------- state transfer

  private startFetch(kind: Fetch['kind'], seq: number, candidates: ReplicaId[]): void {
    const peers = [...new Set(candidates)].filter((p) => p !== this.id && this.knows(p));
    if (peers.length === 0) return;
    // Start at a random candidate so that lagging replicas do not all ask the same one.
    const start = Math.floor(this.cfg.random() * peers.length);
    this.fetch = { kind, seq, peers: [...peers.slice(start), ...peers.slice(0, start)], attempt: 0, deadline: 0 };
    this.sendFetch();
  }

  private sendFetch(): void {
    const f = this.fetch!;
    const peer = f.peers[f.attempt % f.peers.length];
    f.deadline = this.now + 2 * this.cfg.statusTicks;
    if (f.kind === 'state') this.send(peer, this.sign<FetchState>({ type: 'FetchState', from: this.id, to: peer, seq: f.seq }));
    else this.send(peer, this.sign<FetchCommitted>({ type: 'FetchCommitted', from: this.id, to: peer, after: f.seq }));
  }

  private retryFetch(): void {
    const f = this.fetch!;
    const done = f.kind === 'state' ? this.divergedAt === null && this.lastExecuted >= Math.max(f.seq, this.h) : this.lastExecuted > f.seq;
    if (done || f.kind === 'committed' || f.attempt + 1 >= 3 * f.peers.length) {
      this.fetch = null;
      // Still diverged, or behind a known stable checkpoint: start over with its signers.
      if (this.divergedAt !== null || this.lastExecuted < this.h)
        this.startFetch(
          'state',
          this.h,
          this.stableProof.map((c) => c.from),
        );
      return;
    }
    f.attempt++;
    this.sendFetch();
  }

  private onFetchState(m: FetchState): void {
    const st = this.stableState;
    if (st === null || st.seq < m.seq) return;
    // A snapshot can be large: one per peer per status period.
    const last = this.lastServed.get(m.from);
    if (last !== undefined && this.now - last < this.cfg.statusTicks) return;
    this.lastServed.set(m.from, this.now);
    this.send(
      m.from,
      this.sign<StateTransfer>({
        type: 'State',
        from: this.id,
        to: m.from,
        seq: st.seq,
        digest: st.digest,
        position: st.position,
        snapshot: st.snapshot,
        proof: st.proof,
        ...(st.links !== undefined && st.links.length > 0 ? { links: st.links } : {}),
      }),
    );
  }

  /** A checkpointed state from a peer: trusted only if certified and if the restored app reproduces the digest. */
  private onState(m: StateTransfer): void {
    // A diverged replica takes the certified state even at or below what it executed (wrongly).
    const repairs = this.divergedAt !== null && m.seq >= this.divergedAt;
    if (((m.seq <= this.lastExecuted && !repairs) || m.seq < this.h) && !this.off('pbft.state-transfer.accept-stale')) return;
    // The configuration that signed the checkpoint: ours, or one the links certify from ours (reconfiguration.ts).
    const chain = this.reconfigurable
      ? walkConfigurationChain({ conf: this.conf, prev: this.prevConf }, m.links, m.seq, (c) => this.contextOf(c))
      : { conf: this.conf, prev: this.prevConf, walked: [] };
    const signers = chain === null ? null : chain.conf.epoch === this.conf.epoch ? this.signersOf(m.seq) : chain.conf;
    const proofOk = signers !== null && validCheckpointProof(signers === this.conf ? this.certs : this.contextOf(signers), m.seq, m.digest, m.proof);
    if (!proofOk && !this.off('pbft.state-transfer.skip-proof-check')) return this.drop('bad-certificate');
    const before = packState(this.cfg.app.snapshot(), this.clientTable, this.ledgerHead, this.stateConfs);
    let ok: boolean;
    let configs: PbftConfiguration[] = [];
    try {
      configs = this.restoreState(m.snapshot);
      ok = checkpointLedgerDigest(this.appStateDigest(m.position, configs.length > 0 ? configs : [this.conf]), this.ledgerHead) === m.digest;
      ok ||= this.off('pbft.state-transfer.skip-digest-check');
    } catch {
      ok = false;
    }
    const change = ok && chain !== null ? this.configurationOfState(configs, m, chain) : null;
    if (change === 'bad') ok = false;
    if (!ok) {
      this.restoreState(before);
      this.drop('bad-snapshot');
      if (this.fetch !== null && this.fetch.kind === 'state') {
        this.fetch.attempt++;
        this.sendFetch();
      }
      return;
    }
    this.position = m.position;
    this.lastExecuted = m.seq;
    this.divergedAt = null;
    // What this replica had decided by execution is replaced by what the state holds.
    this.next = null;
    if (configs.length > 0) this.stateConfs = configs;
    if (change !== null && change !== 'bad') this.switchDue = change;
    const links = change !== null && change !== 'bad' ? change.links : this.links;
    const ledger = this.ledgerOf(m.position);
    this.stableState = {
      seq: m.seq,
      digest: m.digest,
      position: m.position,
      snapshot: m.snapshot,
      proof: m.proof,
      ...(ledger ? { ledger } : {}),
      ...(links.length > 0 ? { links } : {}),
    };
    this.out.stableCheckpoint = this.stableState;
    if (m.seq > this.h) {
      this.h = m.seq;
      this.stableProof = m.proof;
      this.persistHardState();
    }
    // What the snapshot covers is unknown request by request: forget timers and cached replies.
    this.waiting.clear();
    this.replyCache.clear();
    this.collectGarbage();
    if (this.fetch !== null && this.fetch.kind === 'state' && this.lastExecuted >= this.fetch.seq) this.fetch = null;
    if (this.isPrimary() && this.active) this.seqNext = Math.max(this.seqNext, this.h);
    // After a repair, the committed batches past the checkpoint run again, now on the right state.
    this.executeReady();
  }

  private onFetchCommitted(m: FetchCommitted): void {
    if (m.after < this.h) {
      // Too far behind for batches: the stable checkpoint proof sends it to state transfer.
      for (const c of this.stableProof) this.send(m.from, c);
      return;
    }
    const certificates: CommitCertificate[] = [];
    for (let seq = m.after + 1; seq <= this.lastExecuted && certificates.length < this.L; seq++) {
      const c = this.slots.get(seq)?.committed;
      if (c === undefined || c === null) break;
      certificates.push(c);
    }
    if (certificates.length > 0) this.send(m.from, this.sign<CommittedBatches>({ type: 'Committed', from: this.id, to: m.from, certificates }));
  }

  private onCommitted(m: CommittedBatches): void {
    const certs = [...m.certificates].sort((a, b) => a.seq - b.seq);
    for (const cert of certs) {
      if (cert.seq <= this.lastExecuted || !this.inWindow(cert.seq)) continue;
      if (!this.canAct(cert.seq)) {
        // Past a checkpoint boundary: execute up to it first, to know the configuration (rule 1).
        this.executeReady();
        if (!this.canAct(cert.seq)) break;
      }
      if (!validCommitCertificate(this.certs, cert) && !this.off('pbft.committed.skip-certificate-check')) {
        this.drop('bad-certificate');
        break;
      }
      const slot = this.slot(cert.seq);
      if (slot.committed === null) {
        slot.committed = cert;
        this.persist(slot);
      }
    }
    if (this.fetch !== null && this.fetch.kind === 'committed') this.fetch = null;
    this.executeReady();
  }

  // ---------------------------------------------------------------- configuration (reconfiguration.ts)

  private installConfiguration(conf: PbftConfiguration): void {
    this.conf = conf;
    this.replicas = [...conf.replicas];
    this.members = new Set(this.replicas);
    this.q =
      this.conf.epoch > 0 && this.off('pbft.reconfiguration.keep-old-quorum') ? this.startQuorums : quorums(this.replicas.length, this.off('pbft.quorum.weak'));
    this.certs = {
      q: this.q,
      checkpointInterval: this.K,
      logWindow: this.L,
      isMember: (id) => this.members.has(id),
      primaryOf: (v) => this.primaryOf(v),
      verify: (m) => this.verify(m),
      ...(this.reconfigurable ? { checkpointContext: (seq: number) => (seq === 0 ? this.certs : this.contextOf(this.signersOf(seq))) } : {}),
    };
  }

  /** A replica of the configuration in force, the one before it or the one decided next. */
  private knows(id: ReplicaId): boolean {
    if (this.members.has(id)) return true;
    if (!this.reconfigurable) return false;
    return (
      (this.prevConf?.replicas.includes(id) ?? false) || (this.next?.replicas.includes(id) ?? false) || (this.switchDue?.conf.replicas.includes(id) ?? false)
    );
  }

  /**
   * The sequence numbers up to which this replica knows the configuration is its own (rule 1): up
   * to a decided change's boundary, else up to the checkpoint boundary after what it executed (a
   * change at an unexecuted sequence number could take effect there, not before).
   */
  private knownEnd(): number {
    if (!this.reconfigurable) return Infinity;
    if (this.next !== null) return this.next.since;
    return Math.floor(this.lastExecuted / this.K) * this.K + this.K;
  }

  /** The highest sequence number this replica votes on now (rules 1-2); h + L without reconfiguration. */
  private actHigh(): number {
    if (!this.reconfigurable) return this.h + this.L;
    if (!this.members.has(this.id) || this.switchDue !== null) return this.h;
    return Math.min(this.h + this.L, this.knownEnd());
  }

  private canAct(seq: number): boolean {
    return !this.reconfigurable || (seq > this.h && seq <= this.actHigh());
  }

  /** The configuration that ran sequence number `seq` (its CHECKPOINT signers), as far as this replica knows. */
  private signersOf(seq: number): PbftConfiguration {
    if (this.next !== null && seq > this.next.since) return this.next;
    if (seq > this.conf.since || this.prevConf === null) return this.conf;
    return this.prevConf;
  }

  private quorumsOf(conf: PbftConfiguration): Quorums {
    if (conf === this.conf) return this.q;
    if (conf.epoch > 0 && this.off('pbft.reconfiguration.keep-old-quorum')) return this.startQuorums;
    return quorums(conf.replicas.length, this.off('pbft.quorum.weak'));
  }

  private contextOf(conf: PbftConfiguration): CertificateContext {
    if (conf === this.conf) return this.certs;
    return {
      ...configurationContext(conf, { checkpointInterval: this.K, logWindow: this.L, verify: (m) => this.verifySignature(m) }, false),
      q: this.quorumsOf(conf),
    };
  }

  /** A normal-case message for a sequence number this replica cannot judge yet: kept until it can (settle). */
  private holdEarly(m: PbftMessage): void {
    this.early.push(m);
    if (this.early.length > EARLY_PER_REPLICA * this.replicas.length) {
      this.early.shift();
      this.drop('early-overflow');
    }
  }

  /**
   * At the end of every input: a configuration due takes over, and what waited for sequence numbers
   * this replica can now judge (held messages, pre-prepares of a NEW-VIEW) is taken up.
   */
  private settle(): void {
    if (this.settling || !this.reconfigurable) return;
    this.settling = true;
    try {
      for (let round = 0; round < 8; round++) {
        if (this.switchDue !== null) this.switchConfiguration();
        const high = this.actHigh();
        if (high <= this.earlyHigh) {
          this.earlyHigh = high;
          return;
        }
        const from = this.earlyHigh;
        this.earlyHigh = high;
        this.wakeSlots(from, high);
        const held = this.early;
        this.early = [];
        for (const m of held) this.dispatch(m);
        this.executeReady();
      }
    } finally {
      this.settling = false;
    }
  }

  /** Votes on the pre-prepares held in (from, to] (taken from a NEW-VIEW before they could be judged). */
  private wakeSlots(from: number, to: number): void {
    if (!this.active) return;
    for (let seq = Math.max(from, this.h) + 1; seq <= to; seq++) {
      const slot = this.slots.get(seq);
      const pp = slot?.prePrepareIn(this.view) ?? null;
      if (slot === undefined || pp === null) continue;
      if (!this.isPrimary() && slot.ownPrepare === null) this.broadcast(this.ownPrepareFor(slot, pp));
      this.checkPrepared(slot);
      this.checkCommitted(slot);
    }
  }

  /**
   * Rules 3-4: the new configuration is in force here. Views of the old one mean nothing in it (its
   * NEW-VIEW does not vouch for the new configuration's views), so a member starts a view change to
   * view+1 among the new replicas; a replica left out stops taking part (it still serves states).
   */
  private switchConfiguration(): void {
    const sw = this.switchDue!;
    this.switchDue = null;
    this.prevConf = sw.prev;
    this.next = null;
    this.links = sw.links;
    this.installConfiguration(sw.conf);
    const latest = this.stateConfs[this.stateConfs.length - 1];
    if (latest === undefined || latest.epoch < sw.conf.epoch) this.stateConfs = sw.prev === null ? [sw.conf] : [sw.prev, sw.conf];
    this.viewChanges.clear();
    this.latestViewChange.clear();
    this.ownViewChange = null;
    this.newView = null;
    this.viewChangeDeadline = null;
    this.backoff = 0;
    this.queue = [];
    this.queued.clear();
    this.assigned.clear();
    this.forwardBuffer = [];
    this.fetch = null;
    if (this.members.has(this.id)) this.startViewChange(this.view + 1);
    else {
      this.active = false;
      this.waiting.clear();
      this.persistHardState();
    }
  }

  /**
   * Whether a VIEW-CHANGE can be judged in this configuration (null: yes). Its stable checkpoint tells
   * its configuration: before ours began, it is from an older one; beyond what this replica can
   * judge, it is a reason to catch up first (its certified checkpoint is adopted, the state fetched).
   */
  private viewChangeProblem(vc: ViewChange): string | null {
    if (!this.reconfigurable) return null;
    if (vc.stableSeq < this.conf.since) return 'older-configuration';
    if (vc.stableSeq >= this.knownEnd() || this.switchDue !== null || !this.members.has(this.id)) {
      this.catchUpTo(vc.stableSeq, vc.checkpointProof);
      return 'configuration-ahead';
    }
    return null;
  }

  private catchUpTo(seq: number, proof: Checkpoint[]): void {
    if (seq <= this.h || proof.length === 0) return;
    const signers = this.signersOf(seq);
    if (!validCheckpointProof(this.contextOf(signers), seq, null, proof)) {
      // Signed by a configuration unknown here: the state, with its chain of changes, will tell.
      if (this.fetch === null) this.startFetch('state', this.h + 1, [...new Set(proof.map((c) => c.from))]);
      return;
    }
    const digest = proof[0].digest;
    const matching = proof.filter((c) => c.digest === digest && signers.replicas.includes(c.from));
    this.adoptStableCheckpoint(seq, digest, matching.slice(0, this.quorumsOf(signers).strong));
  }

  /** The NEW-VIEW installed `view` in this configuration (all its VIEW-CHANGEs start at or after its boundary). */
  private newViewOfConfiguration(nv: NewView | null): boolean {
    return nv !== null && nv.view === this.view && nv.viewChanges.every((vc) => vc.stableSeq >= this.conf.since);
  }

  /** Executes a reconfiguration request (rule: admin-signed, a valid set, none pending); the same result on every correct replica. */
  private decideReconfiguration(r: ClientRequest, seq: number): Uint8Array {
    const refuse = (why: string): Uint8Array => {
      this.reconfigurations.refused++;
      return enc.encode(`error: reconfiguration refused: ${why}`);
    };
    if (this.cfg.admin === undefined || clientSigner(r.client) !== this.cfg.admin) return refuse('not signed by the admin principal');
    const decoded = decodeReconfiguration(r.op);
    if ('problem' in decoded) return refuse(decoded.problem);
    if (this.next !== null || this.switchDue !== null) return refuse('another reconfiguration is pending');
    if (sameReplicas(decoded.replicas, this.conf.replicas)) return refuse('the replica set is unchanged');
    this.reconfigurations.applied++;
    const next: PbftConfiguration = { epoch: this.conf.epoch + 1, replicas: decoded.replicas, since: boundaryAtOrAfter(seq, this.K) };
    if (this.off('pbft.reconfiguration.apply-on-execution')) {
      // The mutant: in force from the next sequence number, whatever the others know.
      next.since = seq;
      this.stateConfs = [this.conf, next];
      this.switchDue = { conf: next, prev: this.conf, links: this.links };
    } else {
      this.next = next;
      this.stateConfs = [this.conf, next];
    }
    return enc.encode(`ok: epoch ${next.epoch}: ${next.replicas.join(',')} from sequence number ${next.since + 1}`);
  }

  /**
   * The configuration a transferred state puts in force, given the configuration `chain` says signed
   * it: none (ours), a newer one reached through the links, or the one the state itself starts
   * (a state at that configuration's boundary: the link is made from this very certificate).
   */
  private configurationOfState(
    configs: PbftConfiguration[],
    m: StateTransfer,
    chain: NonNullable<ReturnType<typeof walkConfigurationChain>>,
  ): ConfigurationSwitch | null | 'bad' {
    const latest = configs[configs.length - 1];
    const signer = chain.conf;
    const links = mergeLinks(this.links, chain.walked);
    if (latest === undefined) return signer.epoch === 0 && this.conf.epoch === 0 ? null : 'bad';
    if (latest.epoch === signer.epoch) {
      if (!sameReplicas(latest.replicas, signer.replicas)) return 'bad';
      if (signer.epoch === this.conf.epoch) return null;
      return { conf: latest, prev: configs.length > 1 ? configs[configs.length - 2] : chain.prev, links };
    }
    if (latest.epoch === signer.epoch + 1 && latest.since === m.seq) {
      const link: ConfigurationLink = {
        configuration: latest,
        seq: m.seq,
        digest: m.digest,
        position: m.position,
        part: this.statePart(),
        head: this.ledgerHead,
        proof: m.proof,
      };
      if (linkDigest(link, [signer, latest]) !== m.digest) return 'bad';
      return { conf: latest, prev: signer, links: [...links.filter((l) => l.configuration.epoch < latest.epoch), link] };
    }
    return 'bad';
  }

  // ---------------------------------------------------------------- plumbing

  private slot(seq: number): Slot {
    let s = this.slots.get(seq);
    if (s === undefined) {
      s = new Slot(seq);
      this.slots.set(seq, s);
    }
    return s;
  }

  private persistHardState(): void {
    this.out.hardState = { view: this.view, active: this.active, lowWaterMark: { seq: this.h, proof: this.stableProof } };
  }

  private persist(slot: Slot): void {
    this.out.entries.set(slot.seq, slot.toEntry());
  }

  private sign<M extends PbftMessage>(m: Omit<M, 'sig'>): M {
    const signed = { ...m, sig: this.cfg.crypto.sign(signingPayload(m as M)) } as M;
    this.verified.add(signed);
    return signed;
  }

  private verify(m: PbftMessage): boolean {
    if (this.verified.has(m)) return true;
    if (!this.knows(m.from)) return false;
    return this.verifySignature(m);
  }

  /** The signature alone (membership is the caller's: a configuration chain names signers unknown here). */
  private verifySignature(m: PbftMessage): boolean {
    if (this.verified.has(m)) return true;
    let ok: boolean;
    try {
      ok = this.cfg.crypto.verify(m.from, signingPayload(m), m.sig);
    } catch {
      ok = false;
    }
    if (ok) this.verified.add(m);
    return ok;
  }

  /**
   * A client request arrives several times (from the client, forwarded, in a pre-prepare, in
   * certificates): its signature is checked once, remembered by object and by content.
   */
  private verifyRequest(r: ClientRequest): boolean {
    if (this.verified.has(r) || this.off('pbft.request.skip-signature')) return true;
    let ok: boolean;
    let key = '';
    try {
      key = `${requestDigest(r)}:${Buffer.from(r.sig).toString('base64')}`;
      ok = this.verifiedRequests.has(key) || this.cfg.crypto.verify(clientSigner(r.client), requestPayload(r), r.sig);
    } catch {
      ok = false;
    }
    if (ok) {
      this.verified.add(r);
      this.verifiedRequests.delete(key);
      this.verifiedRequests.add(key);
      if (this.verifiedRequests.size > VERIFIED_REQUESTS) this.verifiedRequests.delete(this.verifiedRequests.values().next().value!);
    }
    return ok;
  }

  private broadcast(m: PbftMessage): void {
    this.out.messages.push(m);
  }

  private send(to: ReplicaId, m: PbftMessage): void {
    // `to` is outside the signature: a copy with another address is still the signer's message.
    this.out.messages.push(m.to === to ? m : { ...m, to });
  }

  /** Is the rule `name` switched off (a mutant, for mutation testing)? False in production. */
  private off(name: PbftMutant): boolean {
    return mutant(name) || (this.localMutants !== null && this.localMutants.has(name));
  }

  private drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    this.droppedSum++;
  }
}

function configurationStatus(c: PbftConfiguration): PbftConfigurationStatus {
  return { epoch: c.epoch, replicas: [...c.replicas], n: c.replicas.length, f: (c.replicas.length - 1) / 3, since: c.since };
}

/** The links of both lists, one per epoch, in epoch order. */
function mergeLinks(a: ConfigurationLink[], b: ConfigurationLink[]): ConfigurationLink[] {
  const byEpoch = new Map<number, ConfigurationLink>();
  for (const l of [...a, ...b]) if (!byEpoch.has(l.configuration.epoch)) byEpoch.set(l.configuration.epoch, l);
  return [...byEpoch.values()].sort((x, y) => x.configuration.epoch - y.configuration.epoch);
}
