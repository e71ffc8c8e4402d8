import { answerQuery, decodeRequest, encodeRequest, KvOptions, KvRequest, KvResult, KvStateMachine, validateRequest } from '@app/consensus/kv';
import { HardState, MAX_TERM, RaftFatal, RaftNode, Ready, SoftState, splitForPersist } from '@app/consensus/raft';
import type { DurableStore } from '@app/storage';
import type { BeaconRaftLab, GatewayRequest, MembershipReply, MembershipRequest, ProposeBody, ReadBody, RedirectBody } from '@app/wire';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaRuntime, RuntimeIo, RuntimeLab, RuntimeStatus } from '../replica/runtime';
import { encodeSnapshot, fromStoredState, toPersistBatch } from './codec';
import { raftMessageProblem } from './validate-message';
import { DigestCache } from '../replica/digest-cache';
import { LeaseClock } from '../replica/lease-clock';
import { ReadyLoop } from '../replica/ready-loop';
import { RaftMembership } from './membership';
import { GENESIS_HASH, unwrapSnapshot, wrapSnapshot } from '@app/consensus/ledger';
import { RaftLedger } from '../ledger/raft-ledger';

/** A gateway's batch waiting for its entries to be applied. */
interface PendingBatch {
  gateway: string;
  corr: string;
  results: Array<KvResult | undefined>;
  remaining: number;
}

interface PendingRead {
  gateway: string;
  body: ReadBody;
}

/** More uncommitted proposals than this and new ones are turned away (the gateway retries). */
const MAX_PENDING_PROPOSALS = 100_000;

/**
 * Drives a Raft core with real time, a Redis store and the bus, serving the KV state machine.
 * Each Ready: persist, then send, then apply and answer reads (committed entries that were already
 * on disk before this Ready are applied first, while its new entries are written).
 */
export class RaftRuntime implements ReplicaRuntime {
  private node!: RaftNode;
  private kv!: KvStateMachine;
  private get kvOptions(): KvOptions {
    return { sessionWindow: this.cfg.sessionWindow, historyEvents: this.cfg.historyEvents };
  }
  private readonly loop = new ReadyLoop(
    () => this.node.hasReady(),
    () => this.handleReady(),
    (err) => this.io.fatal(err),
  );
  private appliedIndex = 0;
  private snapshotIndex = 0;
  /** Lease deadlines; only the leader's count (it alone proposes expiries). */
  private readonly leaseClock: LeaseClock;
  private lastSoft: SoftState | null = null;
  /** Membership changes and transfers asked by the admin API (membership.ts). */
  private readonly members = new RaftMembership(
    () => this.node,
    () => this.loop.kick(),
  );

  /**
   * request id + fingerprint -> the batches waiting for it (a retried id may wait in several). The
   * fingerprint is part of the key: two different requests reusing one id each get their own result
   * (the second one the state machine's conflict), never the other's.
   */
  private waiting = new Map<string, Array<{ batch: PendingBatch; pos: number }>>();
  private pendingCount = 0;
  /** Linearizable reads waiting for the next ReadIndex round (one round in flight at a time). */
  private readGroup: PendingRead[] = [];
  private readRounds = new Map<string, PendingRead[]>();
  private readRoundScheduled = false;
  /** Reads whose ReadIndex is known, waiting for applied >= index. */
  private readsAwaitingApply: Array<{ index: number; reads: PendingRead[] }> = [];
  private readSeq = 0;
  private readonly digests = new DigestCache();
  private storedHardState: HardState = { currentTerm: 0, votedFor: null, commitIndex: 0 };
  /** The verifiable ledger: a hash chain over the applied entries (apps/node/src/ledger). */
  readonly ledger: RaftLedger;

  readonly counters = {
    proposals: 0,
    applied: 0,
    persists: 0,
    persistRetries: 0,
    readRounds: 0,
    readsServed: 0,
    malformedPeerFrames: 0,
    /** Well-formed messages naming a term above MAX_TERM (forged or corrupt), dropped. */
    dropped_term_beyond_ceiling: 0,
    /** Messages that name another sender than the frame's (authenticated) one, or another receiver. */
    dropped_misaddressed: 0,
    snapshots: 0,
    redirects: 0,
  };
  /** The core's fatal condition, as one line for operators (status, health). */
  private fatal: string | undefined;

  constructor(
    private readonly cfg: NodeConfig,
    private readonly store: DurableStore,
    private readonly io: RuntimeIo,
  ) {
    this.leaseClock = new LeaseClock(() => performance.now(), 'lease-expiry', cfg.leaseTtlFactor);
    this.ledger = new RaftLedger(store);
  }

  /** The same path for a fresh process and a revive: everything comes from storage. */
  async start(): Promise<void> {
    const persisted = fromStoredState(await this.store.load());
    if (this.loop.isStopped) return;
    const snap = persisted.snapshot ? unwrapSnapshot(persisted.snapshot.data) : null;
    this.kv = snap ? KvStateMachine.restore(snap.app, this.kvOptions) : new KvStateMachine(this.kvOptions);
    this.storedHardState = persisted.hardState;
    this.appliedIndex = persisted.snapshot?.lastIncludedIndex ?? 0;
    this.snapshotIndex = this.appliedIndex;
    this.ledger.reset(this.appliedIndex, snap ? snap.head : GENESIS_HASH);
    this.node = new RaftNode(
      {
        id: this.cfg.nodeId,
        // The initial configuration; a replica started to join a running cluster has none and
        // learns its membership from the leader (etcd's initial-cluster-state=existing).
        configuration: this.cfg.join ? { voters: [], learners: [] } : { voters: this.cfg.voters, learners: [] },
        electionTick: this.cfg.electionTicks,
        heartbeatTick: this.cfg.heartbeatTicks,
        preVote: true,
        checkQuorum: true,
        maxEntriesPerMessage: this.cfg.maxEntriesPerMessage,
        maxBytesPerMessage: this.cfg.maxBytesPerMessage,
        maxInflight: this.cfg.maxInflight,
        random: Math.random,
      },
      persisted,
    );
    this.io.log(`raft: started at term ${persisted.hardState.currentTerm}, ${persisted.entries.length} entries after snapshot ${this.snapshotIndex}`);
    this.loop.startTicking(this.cfg.tickMs, () => {
      this.node.tick();
      this.voteLeaseExpiry();
    });
  }

  /** The leader votes for the leases its clock says ran out (one vote expires a lease under Raft). */
  private voteLeaseExpiry(): void {
    if (this.lastSoft?.role !== 'leader') return;
    const votes = this.leaseClock.voteRequests(this.cfg.nodeId);
    if (votes.length > 0) this.node.propose(votes.map((r) => encodeRequest(r)));
  }

  stop(): void {
    this.loop.stop();
    this.members.stop();
    this.abandonProposals(null);
    for (const r of this.allPendingReads()) this.redirect(r.gateway, r.body.corr, 'killed');
    this.readGroup = [];
    this.readRounds.clear();
    this.readsAwaitingApply = [];
  }

  onPeerFrame(from: string, body: unknown): number {
    if (this.loop.isStopped || !this.node) return 0;
    const ms = (body as { ms?: unknown }).ms;
    if (!Array.isArray(ms)) {
      this.counters.malformedPeerFrames++;
      return 1;
    }
    let dropped = 0;
    for (const m of ms) {
      const problem = raftMessageProblem(m);
      if (problem === 'malformed') this.counters.malformedPeerFrames++;
      else if (problem === 'term-beyond-ceiling') this.counters.dropped_term_beyond_ceiling++;
      // The frame's sender is authenticated; a message must speak for that sender, to this replica.
      else if (m.from !== from || m.to !== this.cfg.nodeId) this.counters.dropped_misaddressed++;
      else {
        this.node.step(m);
        continue;
      }
      dropped++;
    }
    this.loop.kick();
    return dropped;
  }

  lab(): RuntimeLab {
    if (!this.node) return { log: { last: 0, commit: 0, applied: 0, snapshot: 0 }, stateTransfers: 0, dropped: {} };
    const s = this.node.status();
    const progress: BeaconRaftLab['progress'] = {};
    for (const [id, pr] of Object.entries(s.progress)) progress[id] = { match: pr.matchIndex, next: pr.nextIndex, state: pr.state };
    return {
      log: { last: s.lastIndex, commit: s.commitIndex, applied: this.appliedIndex, snapshot: s.snapshotIndex },
      stateTransfers: this.counters.snapshots,
      raft: { votedFor: s.votedFor, votes: s.votes, progress },
      dropped: {
        malformed: this.counters.malformedPeerFrames,
        'term-beyond-ceiling': this.counters.dropped_term_beyond_ceiling,
        misaddressed: this.counters.dropped_misaddressed,
      },
    };
  }

  membership(req: MembershipRequest): Promise<MembershipReply> {
    if (this.loop.isStopped || !this.node) return Promise.reject(new Error('this replica is not running'));
    return this.members.request(req);
  }

  onClientRequest(from: string, body: GatewayRequest): void {
    if (this.loop.isStopped || !this.node) return this.redirect(from, (body as GatewayRequest).corr, 'killed');
    if (body.t === 'propose') this.propose(from, body);
    else this.read(from, body);
  }

  status(): RuntimeStatus {
    const s = this.node?.status();
    return {
      role: s?.role ?? 'starting',
      term: s?.term ?? 0,
      leader: s?.leader ?? null,
      commitIndex: s?.commitIndex ?? 0,
      leaderCommit: s?.leaderCommit ?? null,
      appliedIndex: this.appliedIndex,
      digest: this.digests.get(this.appliedIndex, this.kv),
      ledger: this.ledger.head(),
      members: s ? this.members.beacon(s) : undefined,
      ...(this.fatal !== undefined ? { fatal: this.fatal } : {}),
      counters: { ...this.counters, pendingProposals: this.pendingCount, snapshotIndex: this.snapshotIndex },
    };
  }

  // ---------------------------------------------------------------- client side

  private propose(gateway: string, body: ProposeBody): void {
    if (!Array.isArray(body.requests) || body.requests.length === 0) return;
    let requests: KvRequest[];
    try {
      requests = body.requests.map((r) => validateRequest(r));
    } catch {
      this.counters.malformedPeerFrames++;
      return;
    }
    // Expiry votes are the leader's own (voteLeaseExpiry): a client cannot expire a lease.
    if (requests.some((r) => r.cmd.op === 'lease-expire')) {
      this.counters.malformedPeerFrames++;
      return;
    }
    if (this.pendingCount + requests.length > MAX_PENDING_PROPOSALS) return this.redirect(gateway, body.corr, 'overloaded');
    const res = this.node.propose(requests.map((r) => encodeRequest(r)));
    if (!res.ok) return this.redirect(gateway, body.corr, res.reason, res.leaderHint);
    this.counters.proposals += requests.length;
    const batch: PendingBatch = { gateway, corr: body.corr, results: new Array(requests.length), remaining: requests.length };
    requests.forEach((r, pos) => {
      const list = this.waiting.get(waiterKey(r));
      if (list) list.push({ batch, pos });
      else this.waiting.set(waiterKey(r), [{ batch, pos }]);
    });
    this.pendingCount += requests.length;
    this.loop.kick();
  }

  private read(gateway: string, body: ReadBody): void {
    if (body.consistency === 'stale') return this.serveRead({ gateway, body });
    this.readGroup.push({ gateway, body });
    this.scheduleReadRound();
  }

  /**
   * One ReadIndex round in flight at a time, as etcd's read loop: the reads that arrive while one
   * confirms leadership share the next round. A round per event-loop turn made the leader's
   * heartbeats to confirm them its largest cost under read load (issue 11's profile).
   */
  private scheduleReadRound(): void {
    if (this.readRoundScheduled || this.readRounds.size > 0 || this.readGroup.length === 0) return;
    this.readRoundScheduled = true;
    setImmediate(() => {
      this.readRoundScheduled = false;
      this.flushReadGroup();
    });
  }

  private flushReadGroup(): void {
    if (this.loop.isStopped || this.readGroup.length === 0) return;
    const ctx = `${this.cfg.nodeId}:${++this.readSeq}`;
    this.readRounds.set(ctx, this.readGroup);
    this.readGroup = [];
    this.counters.readRounds++;
    this.node.readIndex(ctx);
    this.loop.kick();
  }

  private serveRead(r: PendingRead): void {
    const q = r.body.query;
    const answer = answerQuery(this.kv, q) ?? { items: [] };
    if (answer.lease && this.lastSoft?.role === 'leader') {
      const remainingMs = this.leaseClock.remainingMs(answer.lease.id);
      if (remainingMs !== null) answer.lease.remainingMs = remainingMs;
    }
    this.counters.readsServed++;
    this.io.reply(r.gateway, { t: 'read-result', corr: r.body.corr, ...answer, appliedIndex: this.appliedIndex });
  }

  private redirect(gateway: string, corr: string, reason: RedirectBody['reason'], leader: string | null = null): void {
    this.counters.redirects++;
    const body: RedirectBody = { t: 'redirect', corr, leader: leader ?? this.node?.status().leader ?? null, reason };
    this.io.reply(gateway, body);
  }

  // ---------------------------------------------------------------- the Ready loop

  private async handleReady(): Promise<void> {
    const rd = this.node.ready();
    if (rd.fatal) this.reportFatal(rd.fatal);
    // Entries committed before this Ready's new ones are already on this node's disk (and on a
    // majority's): apply them now rather than after the write of the new ones (thesis §10.2.1).
    const applyFirst = !rd.snapshot && (rd.entries.length === 0 || rd.committedEntries.every((e) => e.index < rd.entries[0].index));
    if (applyFirst) this.apply(rd);
    // A leader's replication goes out while its own write is in flight (raft/ready.ts).
    const { early, late } = splitForPersist(rd);
    if (early.length > 0) this.io.sendToPeers('raft', early);
    await this.persist(rd);
    if (this.loop.isStopped) return; // killed while persisting: this Ready never happened
    if (late.length > 0) this.io.sendToPeers('raft', late);
    if (rd.snapshot) this.installSnapshot(rd);
    if (!applyFirst) this.apply(rd);
    this.node.advance(rd);
    this.noticeRoleChange(rd);
    this.handleReads(rd);
    await this.maybeSnapshot();
  }

  private async persist(rd: Ready): Promise<void> {
    const batch = toPersistBatch(rd, this.storedHardState);
    if (!batch) return;
    await this.loop.untilDone(
      async () => {
        await this.store.persist(batch);
        if (rd.hardState) this.storedHardState = rd.hardState;
        this.counters.persists++;
      },
      (err, attempt) => {
        this.counters.persistRetries++;
        if (attempt === 0) this.io.log(`raft: persist failed, retrying: ${err.message}`);
      },
    );
  }

  private installSnapshot(rd: Ready): void {
    const snap = rd.snapshot!;
    const { app, head } = unwrapSnapshot(snap.data);
    this.kv = KvStateMachine.restore(app, this.kvOptions);
    this.ledger.reset(snap.lastIncludedIndex, head);
    this.appliedIndex = snap.lastIncludedIndex;
    this.snapshotIndex = snap.lastIncludedIndex;
    this.counters.snapshots++;
    this.io.log(`raft: installed snapshot at ${snap.lastIncludedIndex} from the leader`);
  }

  private apply(rd: Ready): void {
    for (const e of rd.committedEntries) {
      if (e.index <= this.appliedIndex) continue;
      this.appliedIndex = e.index;
      this.ledger.apply(e);
      this.counters.applied++;
      if (e.type !== 'normal' || !e.data) {
        this.kv.skip(e.index);
        this.members.applied(e);
        continue;
      }
      let req: KvRequest;
      try {
        req = decodeRequest(e.data);
      } catch {
        this.kv.skip(e.index); // cannot happen for entries we validated; deterministic either way
        continue;
      }
      const result = this.kv.apply(e.index, req);
      this.leaseClock.observe(result, req.id, e.index);
      const waiters = this.waiting.get(waiterKey(req));
      if (!waiters) continue;
      this.waiting.delete(waiterKey(req));
      for (const { batch, pos } of waiters) {
        batch.results[pos] = result;
        this.pendingCount--;
        if (--batch.remaining === 0) this.io.reply(batch.gateway, { t: 'result', corr: batch.corr, results: batch.results });
      }
    }
  }

  private handleReads(rd: Ready): void {
    for (const rs of rd.readStates) {
      const reads = this.readRounds.get(rs.ctx);
      if (!reads) continue;
      this.readRounds.delete(rs.ctx);
      this.readsAwaitingApply.push({ index: rs.index, reads });
    }
    for (const rf of rd.readFailures) {
      const reads = this.readRounds.get(rf.ctx);
      if (!reads) continue;
      this.readRounds.delete(rf.ctx);
      for (const r of reads) this.redirect(r.gateway, r.body.corr, 'not-leader', rf.leaderHint);
    }
    // The round in flight is done (confirmed or failed): the reads that waited go in the next.
    if (rd.readStates.length > 0 || rd.readFailures.length > 0) this.scheduleReadRound();
    if (this.readsAwaitingApply.length > 0) {
      const still: typeof this.readsAwaitingApply = [];
      for (const w of this.readsAwaitingApply) {
        if (w.index <= this.appliedIndex) for (const r of w.reads) this.serveRead(r);
        else still.push(w);
      }
      this.readsAwaitingApply = still;
    }
  }

  /**
   * The core holds a term it cannot increment: it will never campaign again, and restarting would
   * not help (the term is durable). Say so once, loudly, and let readiness report it, rather than
   * retry elections that peers must refuse. The node still votes and follows (or leads) in that term.
   */
  private reportFatal(f: RaftFatal): void {
    this.fatal = `raft term ${f.term} is at the ceiling (MAX_TERM ${MAX_TERM}): this node can never start an election again (a forged or corrupt term reached it; it is durable, so a restart does not help: an operator must act)`;
    this.io.error(`FATAL: ${this.fatal}`);
    this.io.changed();
  }

  /** A leader that lost its role cannot finish what it accepted: tell the gateways to retry elsewhere. */
  private noticeRoleChange(rd: Ready): void {
    const prev = this.lastSoft;
    const { role, leader } = rd.softState;
    if (role === prev?.role && leader === prev.leader) return;
    this.lastSoft = rd.softState;
    // A new leader decides expiry from now on, and gives every lease its full TTL first.
    if (role === 'leader' && prev?.role !== 'leader') this.leaseClock.restart(this.kv.allLeases());
    if (prev?.role === 'leader' && role !== 'leader') {
      this.abandonProposals(leader);
      for (const w of this.readsAwaitingApply) for (const r of w.reads) this.redirect(r.gateway, r.body.corr, 'not-leader', leader);
      this.readsAwaitingApply = [];
    }
    this.io.changed();
  }

  /**
   * Proposals already in the log may still commit under the next leader: their fate is unknown, so
   * the gateway must retry them with the same ids (never report them as not applied).
   */
  private abandonProposals(leader: string | null): void {
    const batches = new Set<PendingBatch>();
    for (const entries of this.waiting.values()) for (const { batch } of entries) batches.add(batch);
    for (const b of batches) this.redirect(b.gateway, b.corr, 'abandoned', leader);
    this.waiting.clear();
    this.pendingCount = 0;
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.cfg.snapshotEvery) return;
    // The ledger head at the snapshot's index travels with it (compaction, restart, InstallSnapshot).
    const snap = this.node.createSnapshot(this.appliedIndex, wrapSnapshot(this.kv.snapshot(), this.ledger.hashAt(this.appliedIndex) ?? null));
    // A leader's snapshot that arrived meanwhile is not ours to compact to: the next Ready installs it.
    if (snap.lastIncludedIndex !== this.appliedIndex) return;
    this.snapshotIndex = snap.lastIncludedIndex;
    try {
      await this.store.compact({ index: snap.lastIncludedIndex, data: encodeSnapshot(snap) });
    } catch (err) {
      // The log still holds everything; the next snapshot compacts further.
      this.io.log(`raft: compaction failed: ${(err as Error).message}`);
    }
  }

  private allPendingReads(): PendingRead[] {
    return [...this.readGroup, ...[...this.readRounds.values()].flat(), ...this.readsAwaitingApply.flatMap((w) => w.reads)];
  }
}

function waiterKey(r: { id: string; fingerprint?: string }): string {
  return `${r.id}\n${r.fingerprint ?? ''}`;
}
