import { mutant, localMutants, type MutantName, type RaftMutant } from '../mutants';
import { changedConfiguration, type ConfChange, type ConfChangeResult, decodeConfiguration, encodeConfiguration, votersChanged } from './configuration';
import { RaftLog } from './log';
import { Progress } from './progress';
import { quorumOf, quorumIndex } from './quorum';
import {
  AppendEntries,
  AppendEntriesResponse,
  Configuration,
  Entry,
  HardState,
  InstallSnapshot,
  InstallSnapshotResponse,
  MAX_TERM,
  Message,
  NodeId,
  PersistentState,
  ProposeResult,
  RaftConfig,
  RaftFatal,
  Ready,
  ReadFailure,
  ReadIndexResponse,
  ReadState,
  RequestVote,
  RAFT_FAULT_MUTANTS,
  RequestVoteResponse,
  Role,
  Snapshot,
  SoftState,
} from './types';

/** Most committed entries handed out to apply in one Ready. */
const MAX_APPLY_PER_READY = 4096;

interface PendingRead {
  ctx: string;
  index: number;
  acks: Set<NodeId>;
  /** A follower's read (ReadIndexRequest): the index goes back to it rather than into readStates. */
  from: NodeId | null;
}

/** A read this follower asked its leader about, failed if the answer does not come in this term from this leader. */
interface ForwardedRead {
  ctx: string;
  term: number;
  leader: NodeId;
  since: number;
}

/** Reads a follower keeps waiting on its leader at most; the oldest fails first beyond it. */
const MAX_FORWARDED_READS = 4096;

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  votedFor: NodeId | null;
  /** The votes granted to this node in its current term (a candidate's count; a leader's election), itself included. */
  votes: NodeId[];
  commitIndex: number;
  /**
   * The leader's commitIndex as the current leader last told this node (AppendEntries'
   * leaderCommit, the highest heard from it this term; an InstallSnapshot's last index counts as
   * committed). A leader reports its own commitIndex; null while no leader is known. A follower's
   * own commitIndex stops at the end of its log, so a follower far behind sees commitIndex ==
   * appliedIndex while leaderCommit runs ahead: this is what "caught up" is measured against.
   */
  leaderCommit: number | null;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  configuration: Configuration;
  /** The index of the entry that set `configuration` (0: the initial one or the snapshot's); a change is in flight while it is above commitIndex. */
  configIndex: number;
  progress: Record<NodeId, { matchIndex: number; nextIndex: number; state: string }>;
  /** Set for good once the node cannot go on by itself (see RaftFatal); null while all is well. */
  fatal: RaftFatal | null;
}

/**
 * One Raft peer as a pure state machine (etcd's raft package is the model): no I/O, no clock.
 * Inputs: tick(), step(), propose(), proposeConfChange(), readIndex(), transferLeadership(), createSnapshot().
 * Output: ready() — one batch of work — acknowledged by advance().
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  /** Mutants switched on for this node only (config.faults); the global ones are in mutants.ts. */
  private readonly localMutants: ReadonlySet<MutantName> | null;
  /** The latest configuration in the log (it takes effect when appended, see configuration.ts). */
  private configuration: Configuration;
  /** The entry that set it; 0 when it is `baseConfiguration`. */
  private configIndex = 0;
  /** The configuration as of the snapshot (or the initial one): what is left when no config entry is in the log. */
  private baseConfiguration: Configuration;

  // Persistent state (Figure 2).
  private currentTerm: number;
  private votedFor: NodeId | null;
  private readonly log: RaftLog;

  // Volatile state.
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  /**
   * The highest leaderCommit heard from this term's leader (one leader per term, so the term says
   * whose it is). The highest, not the latest: a heartbeat carries min(commitIndex, matchIndex) for
   * the follower it goes to, which says nothing about how far behind that follower is.
   */
  private leaderCommitHeard = { term: -1, index: 0 };
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  /** Who granted this leader its term (status only: reset() forgets the votes themselves). */
  private electedBy: NodeId[] = [];
  private progress = new Map<NodeId, Progress>();
  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;

  // ReadIndex (§6.4): reads waiting for a current-term commit, then for a quorum of acks.
  private readsAwaitingCommit: Array<{ ctx: string; from: NodeId | null }> = [];
  private pendingReads: PendingRead[] = [];
  private forwardedReads: ForwardedRead[] = [];
  /** Ticks since start: how long a forwarded read has waited. */
  private ticks = 0;

  // Output buffers for the next Ready.
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  /** The condition, once it arose; `fatalPending` until a Ready handed it out. */
  private fatal: RaftFatal | null = null;
  private fatalPending = false;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig, persisted: PersistentState) {
    this.cfg = config;
    this.id = config.id;
    this.localMutants = localMutants(config.faults, RAFT_FAULT_MUTANTS);
    this.baseConfiguration = persisted.snapshot?.configuration ?? config.configuration;
    this.configuration = this.baseConfiguration;
    this.currentTerm = persisted.hardState.currentTerm;
    this.votedFor = persisted.hardState.votedFor;
    this.log = new RaftLog(persisted.snapshot, persisted.entries, persisted.hardState.commitIndex);
    this.reloadConfiguration();
    this.prevHardState = this.hardState();
    this.resetRandomizedElectionTimeout();
    this.prevSoftState = this.softState();
    this.checkTermCeiling(); // a durable term written before the ceiling existed
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.ticks++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
    this.checkForwardedReads();
  }

  propose(data: Uint8Array[]): ProposeResult {
    if (data.length === 0) throw new Error('raft: propose() of an empty batch');
    if (this.role !== 'leader') return { ok: false, leaderHint: this.leader, reason: 'not-leader' };
    if (this.leadTransferee !== null) return { ok: false, leaderHint: this.leader, reason: 'transferring' };
    const first = this.log.lastIndex() + 1;
    this.appendEntries(data.map((d, i) => ({ index: first + i, term: this.currentTerm, type: 'normal', data: d })));
    return { ok: true, index: first, term: this.currentTerm };
  }

  /**
   * A membership change (configuration.ts): one voter at a time, one change in flight, proposed by
   * a leader that has committed an entry of its term. A promotion waits for the learner to catch up.
   * Several changes in one call are applied together and must still move one voter at most.
   */
  proposeConfChange(changes: ConfChange[]): ConfChangeResult {
    const refuse = (reason: Exclude<ConfChangeResult, { ok: true }>['reason']): ConfChangeResult => ({ ok: false, reason, leaderHint: this.leader });
    if (changes.length === 0) throw new Error('raft: proposeConfChange() of no change');
    if (this.role !== 'leader') return refuse('not-leader');
    if (this.leadTransferee !== null) return refuse('transferring');
    if (this.log.term(this.log.commitIndex) !== this.currentTerm && !this.off('raft.conf.skip-own-term-commit')) return refuse('leader-not-ready');
    if (this.configIndex > this.log.commitIndex && !this.off('raft.conf.allow-two-in-flight')) return refuse('change-in-flight');
    const next = changedConfiguration(this.configuration, changes, this.off('raft.conf.allow-retired-id'));
    if (typeof next === 'string') return refuse(next);
    if (votersChanged(this.configuration, next) > 1 && !this.off('raft.conf.many-voters-at-once')) return refuse('too-many-voters-changed');
    const slack = this.cfg.learnerCatchUpSlack ?? this.cfg.maxEntriesPerMessage;
    for (const c of changes) {
      if (c.type !== 'promote' || c.id === this.id) continue;
      const pr = this.progress.get(c.id);
      // Caught up, and heard from: a learner that never acknowledged anything may not even run.
      if (!pr || pr.matchIndex === 0 || pr.matchIndex + slack < this.log.commitIndex) return refuse('learner-behind');
    }
    const index = this.log.lastIndex() + 1;
    this.appendEntries([{ index, term: this.currentTerm, type: 'config', data: encodeConfiguration(next) }]);
    return { ok: true, index, term: this.currentTerm, configuration: this.configuration };
  }

  /** Linearizable read (§6.4): the answer is a ReadState (serve once applied >= index) or a ReadFailure. */
  readIndex(ctx: string): void {
    if (this.role === 'leader') return this.leaderRead(ctx, null);
    // A follower that knows its leader asks it (thesis §6.4.1); anyone else cannot serve.
    if (this.role !== 'follower' || this.leader === null) {
      this.readFailures.push({ ctx, leaderHint: this.leader });
      return;
    }
    if (this.off('raft.read-index.follower-serves-own-commit')) {
      this.readStates.push({ ctx, index: this.log.commitIndex });
      return;
    }
    if (this.forwardedReads.length >= MAX_FORWARDED_READS) this.failForwarded(this.forwardedReads.splice(0, 1));
    this.forwardedReads.push({ ctx, term: this.currentTerm, leader: this.leader, since: this.ticks });
    this.send({ type: 'ReadIndexRequest', from: this.id, to: this.leader, term: this.currentTerm, ctx });
  }

  /** Leadership transfer (§3.10): bring `to` up to date, then tell it to campaign at once. */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader' || to === this.id || !this.configuration.voters.includes(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    // The transfer must finish within an election timeout of its own. Not electionElapsed: that
    // clock is check-quorum's, and requests for transfers must not postpone a step-down.
    this.transferElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.matchIndex === this.log.lastIndex()) this.send({ type: 'TimeoutNow', from: this.id, to, term: this.currentTerm });
    else this.sendAppend(to, true);
  }

  /** The application took a snapshot of its state at `index` (<= applied): compact the log behind it. */
  createSnapshot(index: number, data: Uint8Array): Snapshot {
    if (index > this.log.lastApplied) throw new Error(`raft: snapshot at ${index} is beyond applied ${this.log.lastApplied}`);
    if (index <= this.log.snapshotIndex()) return this.log.snapshot!;
    const snapshot: Snapshot = {
      lastIncludedIndex: index,
      lastIncludedTerm: this.log.term(index) as number,
      // As of `index`, not the latest: a later change may still be truncated away.
      configuration: this.configurationAt(index),
      data,
    };
    this.log.compact(snapshot);
    this.baseConfiguration = snapshot.configuration;
    if (this.configIndex <= index) this.configIndex = 0;
    return snapshot;
  }

  step(m: Message): void {
    this.receive(m);
    this.checkForwardedReads();
  }

  private receive(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    // Members ignore the votes non-members ask for: a removed server that never heard of its
    // removal campaigns on and on, and must not disrupt (§4.2.3). Everything else is taken from
    // anyone (the bus authenticated the sender; terms order the rest): a leader being removed keeps
    // replicating until its removal commits (§4.2.2), and a member whose configuration is behind
    // must still hear a leader it does not know of yet. A server outside its own configuration —
    // joining with none yet, or removed — never campaigns, so it may answer anyone.
    if (m.type === 'RequestVote' && !this.isMember(m.from) && this.isMember(this.id) && !this.off('raft.step.skip-member-check')) return;
    // Forged or corrupt: adopting it would leave no term to campaign in (the runtime's validator
    // drops and counts these first; this keeps the simulator and any other driver to the same rule).
    if (m.term > MAX_TERM && !this.off('raft.term.skip-ceiling')) return;
    if (m.term > this.currentTerm) {
      if (m.type === 'RequestVote') {
        // Check-quorum lease: while we hear from a live leader, ignore candidates (disruptive rejoin).
        const inLease = this.cfg.checkQuorum && this.leader !== null && this.electionElapsed < this.cfg.electionTick;
        if (inLease && !m.transfer && !this.off('raft.vote.skip-lease')) return;
        if (!m.preVote) {
          // Figure 2: a follower's timer restarts when it hears the leader or grants a vote, not on
          // a candidate's higher term alone. Restarting it here let a candidate with a shorter log
          // (it can never win) keep the one voter that could from ever campaigning first (seed 1314:
          // two voters, no leader 150 ticks after healing). A leader steps down with a fresh timer.
          const elapsed = this.electionElapsed;
          const keep = this.role !== 'leader' && !this.off('raft.vote.term-resets-timer');
          this.becomeFollower(m.term, null);
          if (keep) this.electionElapsed = elapsed;
        }
      } else if (m.type === 'RequestVoteResponse' && m.preVote && m.voteGranted) {
        // A granted pre-vote carries the term we would campaign for; it changes nothing.
      } else {
        const leader = m.type === 'AppendEntries' || m.type === 'InstallSnapshot' ? m.from : null;
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this.currentTerm && !this.off('raft.term.accept-stale')) {
      // Tell a stale leader or candidate about the newer term so it steps down; ignore the rest.
      if (m.type === 'AppendEntries') {
        this.send(this.appendResponse(m.from, false, 0, m.prevLogIndex, 0, 0, null));
      } else if (m.type === 'RequestVote') {
        this.send({ type: 'RequestVoteResponse', from: this.id, to: m.from, term: this.currentTerm, preVote: m.preVote, voteGranted: false });
      } else if (m.type === 'InstallSnapshot') {
        this.send({ type: 'InstallSnapshotResponse', from: this.id, to: m.from, term: this.currentTerm, matchIndex: 0 });
      }
      return;
    }

    switch (m.type) {
      case 'RequestVote':
        return this.handleRequestVote(m);
      case 'RequestVoteResponse':
        return this.handleVoteResponse(m);
      case 'AppendEntries':
        return this.handleAppendEntries(m);
      case 'AppendEntriesResponse':
        return this.handleAppendResponse(m);
      case 'InstallSnapshot':
        return this.handleInstallSnapshot(m);
      case 'InstallSnapshotResponse':
        return this.handleSnapshotResponse(m);
      case 'TimeoutNow':
        if (this.role !== 'leader' && (this.promotable() || this.off('raft.campaign.allow-learner'))) this.campaign(false, true);
        break;
      case 'ReadIndexRequest':
        if (this.role === 'leader') this.leaderRead(m.ctx, m.from);
        else this.send({ type: 'ReadIndexResponse', from: this.id, to: m.from, term: this.currentTerm, ctx: m.ctx, index: null });
        break;
      case 'ReadIndexResponse':
        this.onReadIndexResponse(m);
        break;
    }
  }

  // ---------------------------------------------------------------- Ready

  hasReady(): boolean {
    if (this.outstanding) return false;
    const ss = this.prevSoftState;
    const hs = this.hardState();
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      this.log.pendingSnapshot !== null ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.log.hasEntriesToApply() ||
      this.fatalPending ||
      !sameHardState(hs, this.prevHardState) ||
      ss.role !== this.role ||
      ss.leader !== this.leader ||
      ss.term !== this.currentTerm
    );
  }

  ready(): Ready {
    if (this.outstanding) throw new Error('raft: ready() called before advance() of the previous Ready');
    const hs = this.hardState();
    const snapshot = this.log.pendingSnapshot;
    const rd: Ready = {
      softState: this.softState(),
      hardState: sameHardState(hs, this.prevHardState) ? null : hs,
      entries: this.log.unstableEntries(),
      snapshot,
      messages: this.msgs,
      committedEntries: this.log.entriesToApply(MAX_APPLY_PER_READY),
      readStates: this.readStates,
      readFailures: this.readFailures,
      fatal: this.fatalPending ? this.fatal : null,
    };
    this.fatalPending = false;
    this.msgs = [];
    this.readStates = [];
    this.readFailures = [];
    this.outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    if (rd !== this.outstanding) throw new Error('raft: advance() of a Ready that is not outstanding');
    this.outstanding = null;
    if (rd.hardState) this.prevHardState = rd.hardState;
    this.prevSoftState = rd.softState;
    if (rd.snapshot) {
      if (this.log.pendingSnapshot === rd.snapshot) this.log.pendingSnapshot = null;
      this.log.lastApplied = Math.max(this.log.lastApplied, rd.snapshot.lastIncludedIndex);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
      // The leader's own entries now count towards commit (see maybeCommit).
      if (this.role === 'leader') this.maybeCommit();
    }
    if (rd.committedEntries.length > 0) {
      this.log.lastApplied = Math.max(this.log.lastApplied, rd.committedEntries[rd.committedEntries.length - 1].index);
    }
  }

  // ---------------------------------------------------------------- introspection

  status(): RaftStatus {
    const progress: RaftStatus['progress'] = {};
    for (const [id, pr] of this.progress) progress[id] = { matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, state: pr.state };
    return {
      id: this.id,
      role: this.role,
      term: this.currentTerm,
      leader: this.leader,
      votedFor: this.votedFor,
      votes: this.role === 'leader' ? [...this.electedBy] : this.role === 'follower' ? [] : this.granted(),
      commitIndex: this.log.commitIndex,
      leaderCommit: this.leaderCommit(),
      appliedIndex: this.log.lastApplied,
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapshotIndex(),
      configuration: this.configuration,
      configIndex: this.configIndex,
      progress,
      fatal: this.fatal,
    };
  }

  private leaderCommit(): number | null {
    if (this.leader === null) return null;
    if (this.role === 'leader') return this.log.commitIndex;
    return this.leaderCommitHeard.term === this.currentTerm ? Math.max(this.leaderCommitHeard.index, this.log.commitIndex) : this.log.commitIndex;
  }

  /** Record the commit index this term's leader says it has (see leaderCommitHeard). */
  private heardLeaderCommit(index: number): void {
    if (this.leaderCommitHeard.term !== this.currentTerm) this.leaderCommitHeard = { term: this.currentTerm, index: 0 };
    this.leaderCommitHeard.index = Math.max(this.leaderCommitHeard.index, index);
  }

  /** The in-memory log after the snapshot (for invariant checks). */
  logEntries(): Entry[] {
    return this.log.all();
  }

  snapshot(): Snapshot | null {
    return this.log.snapshot;
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    if (term !== this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
      this.checkTermCeiling();
    }
    this.role = 'follower';
    this.leader = leader;
    this.reset();
    if (wasLeader && !this.off('raft.read-index.keep-reads-on-step-down')) this.failPendingReads();
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leader = this.id;
    this.electedBy = this.granted();
    this.reset();
    const next = this.log.lastIndex() + 1;
    for (const id of this.members()) {
      if (id === this.id) continue;
      this.progress.set(id, new Progress(next, !this.isVoter(id)));
    }
    // A no-op of the new term lets the leader commit (and learn its commit index) at once (§5.4.2).
    this.appendEntries([{ index: next, term: this.currentTerm, type: 'noop', data: null }]);
  }

  private granted(): NodeId[] {
    return [...this.votes].filter(([, granted]) => granted).map(([id]) => id);
  }

  private reset(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.progress.clear();
    this.leadTransferee = null;
  }

  private resetRandomizedElectionTimeout(): void {
    const t = this.cfg.electionTick;
    this.randomizedElectionTimeout = t + Math.floor(this.cfg.random() * t);
  }

  // ---------------------------------------------------------------- elections

  private tickElection(): void {
    this.electionElapsed++;
    if ((this.promotable() || this.off('raft.campaign.allow-learner')) && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote, false);
    }
  }

  /** Start a pre-vote round (§9.6) or a real election. */
  private campaign(preVote: boolean, transfer: boolean): void {
    // No term left to campaign in: peers would drop the RequestVote, so say so instead (once).
    if (this.currentTerm >= MAX_TERM && !this.off('raft.term.skip-ceiling')) return this.checkTermCeiling();
    let term: number;
    if (preVote) {
      this.role = 'pre-candidate';
      this.leader = null;
      this.votes.clear();
      this.resetRandomizedElectionTimeout();
      term = this.currentTerm + 1; // not adopted unless the pre-vote wins
    } else {
      this.becomeFollower(this.currentTerm + 1, null);
      this.role = 'candidate';
      this.votedFor = this.id;
      term = this.currentTerm;
    }
    this.votes.set(this.id, true);
    if (this.voteWon()) return;
    for (const id of this.configuration.voters) {
      if (id === this.id) continue;
      const msg: RequestVote = {
        type: 'RequestVote',
        from: this.id,
        to: id,
        term,
        preVote,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer,
      };
      this.send(msg);
    }
  }

  private handleRequestVote(m: RequestVote): void {
    // Same or higher term here (higher real votes already moved us to m.term).
    const canVote =
      this.votedFor === m.from ||
      (this.votedFor === null && this.leader === null) ||
      (m.preVote && m.term > this.currentTerm) ||
      this.off('raft.vote.grant-twice');
    const upToDate = this.off('raft.vote.skip-up-to-date-check') || this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    // A server that knows no configuration started empty to join (JOIN, a replaced machine): it has
    // no vote to give. Its id may be listed in configurations stale servers still hold, as the
    // voter whose log and vote it does not have; answering for it would let such a server win
    // without the committed entries that voter held. It votes once the log makes it a member.
    const joining = this.configuration.voters.length === 0 && this.configuration.learners.length === 0;
    const grant = canVote && upToDate && (!joining || this.off('raft.vote.joiner-votes'));
    this.send({
      type: 'RequestVoteResponse',
      from: this.id,
      to: m.from,
      term: grant && m.preVote ? m.term : this.currentTerm,
      preVote: m.preVote,
      voteGranted: grant,
    });
    if (grant && !m.preVote) {
      this.electionElapsed = 0;
      this.votedFor = m.from;
    }
  }

  private handleVoteResponse(m: RequestVoteResponse): void {
    const expecting = m.preVote ? this.role === 'pre-candidate' : this.role === 'candidate';
    if (!expecting || (!this.isVoter(m.from) && !this.off('raft.vote.count-non-voter'))) return;
    // A grant from an older round.
    if (m.preVote && m.voteGranted && m.term !== this.currentTerm + 1 && !this.off('raft.pre-vote.accept-stale-grant')) return;
    this.votes.set(m.from, m.voteGranted);
    if (this.voteWon()) return;
    let rejected = 0;
    for (const granted of this.votes.values()) if (!granted) rejected++;
    if (rejected >= quorumOf(this.configuration.voters.length)) this.becomeFollower(this.currentTerm, null);
  }

  private voteWon(): boolean {
    let granted = 0;
    for (const [id, g] of this.votes) if (g && (id !== this.id || this.isVoter(id))) granted++;
    if (granted < quorumOf(this.configuration.voters.length)) return false;
    if (this.role === 'pre-candidate') this.campaign(false, false);
    else this.becomeLeader();
    return true;
  }

  // ---------------------------------------------------------------- replication (leader)

  private appendEntries(entries: Entry[]): void {
    this.log.append(entries);
    if (entries.some((e) => e.type === 'config')) this.reloadConfiguration();
    if (!this.maybeCommit()) this.broadcastAppend();
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive() && !this.off('raft.check-quorum.skip-step-down')) {
        this.becomeFollower(this.currentTerm, null); // §6.2: a leader cut off from a majority steps down
        return;
      }
    }
    if (this.leadTransferee !== null && ++this.transferElapsed >= this.cfg.electionTick) {
      this.leadTransferee = null; // a transfer that did not finish within an election timeout is abandoned
    }
    for (const pr of this.progress.values()) {
      if (pr.state === 'replicate' && pr.inflight.length > 0) pr.stalledTicks++;
      if (pr.state === 'snapshot') pr.stalledTicks++;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    let active = this.isVoter(this.id) ? 1 : 0;
    for (const [id, pr] of this.progress) {
      if (pr.recentActive && this.isVoter(id)) active++;
      pr.recentActive = false;
    }
    return active >= quorumOf(this.configuration.voters.length);
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) this.sendAppend(id, false);
  }

  /**
   * Heartbeats double as the retransmission timer: a probe is re-sent, a pipeline that made no
   * progress for two heartbeats (lost messages) falls back to probing, a lost snapshot is re-sent.
   */
  private broadcastHeartbeat(): void {
    const readCtx = this.pendingReads.length > 0 ? this.pendingReads[this.pendingReads.length - 1].ctx : null;
    for (const [id, pr] of this.progress) {
      // A snapshot may take long to ship and install: give it an election timeout before re-sending.
      const stallLimit = pr.state === 'snapshot' ? this.cfg.electionTick : 2 * this.cfg.heartbeatTick;
      if (pr.stalledTicks >= stallLimit && pr.state !== 'probe') pr.becomeProbe();
      if (pr.state === 'probe') {
        pr.paused = false;
        this.sendAppend(id, true, readCtx);
      } else {
        this.sendHeartbeat(id, pr, readCtx);
      }
    }
  }

  private sendHeartbeat(to: NodeId, pr: Progress, readCtx: string | null): void {
    const prev = Math.max(pr.matchIndex, this.log.snapshotIndex());
    this.send({
      type: 'AppendEntries',
      from: this.id,
      to,
      term: this.currentTerm,
      prevLogIndex: prev,
      prevLogTerm: this.log.term(prev) as number,
      entries: [],
      leaderCommit: Math.min(this.log.commitIndex, pr.matchIndex),
      readCtx,
    });
  }

  /** Send the entries the follower lacks (or the snapshot when they are compacted away). */
  private sendAppend(to: NodeId, force: boolean, readCtx: string | null = null): void {
    const pr = this.progress.get(to)!;
    if (!force && pr.isPaused(this.cfg.maxInflight)) return;
    do {
      const prevLogIndex = pr.nextIndex - 1;
      const prevLogTerm = this.log.term(prevLogIndex);
      if (prevLogTerm === undefined) {
        this.sendSnapshot(to, pr);
        return;
      }
      const entries = capBytes(this.log.slice(pr.nextIndex, this.log.lastIndex(), this.cfg.maxEntriesPerMessage), this.cfg.maxBytesPerMessage);
      if (entries.length === 0 && !force && pr.state === 'replicate') return;
      const msg: AppendEntries = {
        type: 'AppendEntries',
        from: this.id,
        to,
        term: this.currentTerm,
        prevLogIndex,
        prevLogTerm,
        entries,
        leaderCommit: this.log.commitIndex,
        readCtx,
      };
      this.send(msg);
      force = false;
      pr.sentTo(prevLogIndex + entries.length, this.cfg.maxInflight);
      // In replicate state keep filling the pipeline; a probe sends one message.
    } while (pr.state === 'replicate' && !pr.isPaused(this.cfg.maxInflight) && pr.nextIndex <= this.log.lastIndex());
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const snapshot = this.log.snapshot;
    if (!snapshot) throw new Error('raft: entries compacted without a snapshot');
    pr.becomeSnapshot(snapshot.lastIncludedIndex);
    const msg: InstallSnapshot = { type: 'InstallSnapshot', from: this.id, to, term: this.currentTerm, snapshot };
    this.send(msg);
  }

  private handleAppendResponse(m: AppendEntriesResponse): void {
    if (this.role !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.readCtx !== null) this.ackRead(m.readCtx, m.from);

    if (!m.success) {
      // Stale: a refusal of prevLogIndex <= matchIndex answers an older probe, since the follower has
      // since acknowledged that index (etcd's `<=`; `<` let a late refusal at matchIndex pull it back).
      const stale = this.off('raft.append.accept-stale-rejection') ? m.rejectedIndex < pr.matchIndex : m.rejectedIndex <= pr.matchIndex;
      if (stale) return;
      if (m.conflictIndex <= pr.matchIndex) {
        // The follower no longer holds what it acknowledged (a late refusal, or a store that lost
        // data): believe it, so it is repaired instead of probed at the same index forever.
        // Lowering matchIndex never lowers commitIndex.
        pr.matchIndex = Math.max(0, m.conflictIndex - 1);
      }
      if (pr.state === 'snapshot') return; // the snapshot answer decides
      if (pr.state === 'probe' && m.rejectedIndex !== pr.nextIndex - 1) return; // answer to an older probe
      // Fast back-off (§5.3): skip the whole conflicting term, or to the end of the follower's log.
      let next = m.conflictIndex;
      if (m.conflictTerm > 0) {
        const last = this.log.lastIndexOfTerm(m.conflictTerm);
        if (last > 0) next = last + 1;
      }
      pr.becomeProbe();
      pr.nextIndex = Math.max(pr.matchIndex + 1, Math.min(next, m.rejectedIndex));
      this.sendAppend(m.from, false);
      return;
    }

    const moved = pr.maybeUpdate(m.matchIndex);
    if (moved) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.matchIndex >= pr.pendingSnapshot) pr.becomeProbe();
      if (!this.maybeCommit()) this.sendAppend(m.from, false);
      if (m.from === this.leadTransferee && pr.matchIndex === this.log.lastIndex()) {
        this.send({ type: 'TimeoutNow', from: this.id, to: m.from, term: this.currentTerm });
      }
    } else if (pr.state === 'replicate' || (pr.state === 'probe' && !pr.paused)) {
      this.sendAppend(m.from, false);
    }
  }

  private handleSnapshotResponse(m: InstallSnapshotResponse): void {
    if (this.role !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.maybeUpdate(m.matchIndex);
    if (pr.state === 'snapshot') pr.becomeProbe();
    if (!this.maybeCommit()) this.sendAppend(m.from, false);
  }

  /**
   * Advance commitIndex to the highest index stored on a majority — but only by counting entries of
   * the current term (Figure 8, §5.4.2). Broadcasts the new commit index when it moved.
   */
  private maybeCommit(): boolean {
    // The leader counts its own log as far as it is on disk (it writes in parallel with its
    // followers, §10.2.1: a majority of disks, not of memories — a lone voter commits nothing it
    // has not stored). A leader being removed or demoted does not count itself at all (§4.2.2).
    const own = Math.min(this.log.lastIndex(), this.log.unstableFrom - 1);
    const matches = this.isVoter(this.id) || this.off('raft.conf.removed-leader-counts-itself') ? [own] : [];
    for (const [id, pr] of this.progress) if (this.isVoter(id) || this.off('raft.commit.count-learners')) matches.push(pr.matchIndex);
    const n = quorumIndex(matches, quorumOf(this.configuration.voters.length));
    if (n <= this.log.commitIndex) return false;
    if (this.log.term(n) !== this.currentTerm && !this.off('raft.commit.previous-term-by-count')) return false;
    const firstOfTerm = this.log.term(this.log.commitIndex) !== this.currentTerm;
    this.log.commitTo(n);
    if (firstOfTerm) this.releaseReadsAwaitingCommit();
    this.broadcastAppend();
    if (!this.isVoter(this.id) && this.configIndex <= n) {
      this.handOffLeadership();
      return true;
    }
    for (const [id, pr] of this.progress) {
      // Followers with nothing new to send still learn the commit index promptly.
      if (pr.state === 'replicate' && pr.nextIndex > this.log.lastIndex() && pr.inflight.length === 0) {
        this.sendHeartbeat(id, pr, null);
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- replication (follower)

  private handleAppendEntries(m: AppendEntries): void {
    if (this.role !== 'follower') this.becomeFollower(m.term, m.from);
    this.leader = m.from;
    this.electionElapsed = 0;
    this.heardLeaderCommit(m.leaderCommit);

    if (m.prevLogIndex < this.log.commitIndex) {
      // Everything up to our commit index matches the leader's log (leader completeness).
      const lastNew = m.prevLogIndex + m.entries.length;
      if (lastNew > this.log.commitIndex) {
        const skip = this.log.commitIndex - m.prevLogIndex;
        this.acceptEntries(m, this.log.commitIndex, m.entries.slice(skip));
      } else {
        this.send(this.appendResponse(m.from, true, this.log.commitIndex, 0, 0, 0, m.readCtx));
      }
      return;
    }
    if (this.log.matchTerm(m.prevLogIndex, m.prevLogTerm) || this.off('raft.append.skip-consistency-check')) {
      this.acceptEntries(m, m.prevLogIndex, m.entries);
      return;
    }
    // Refuse with a hint: the conflicting term and its first index, or our log's end.
    let conflictTerm = 0;
    let conflictIndex = this.log.lastIndex() + 1;
    if (m.prevLogIndex <= this.log.lastIndex()) {
      conflictTerm = this.log.term(m.prevLogIndex) as number;
      conflictIndex = this.log.firstIndexOfTerm(m.prevLogIndex);
    }
    this.send(this.appendResponse(m.from, false, 0, m.prevLogIndex, conflictTerm, conflictIndex, m.readCtx));
  }

  private acceptEntries(m: AppendEntries, prevLogIndex: number, entries: Entry[]): void {
    const lastNew = this.log.appendAfter(prevLogIndex, entries);
    // A new configuration arrived, or the suffix that held the current one may have been replaced.
    if (entries.some((e) => e.type === 'config') || this.configIndex > prevLogIndex) this.reloadConfiguration();
    this.log.commitTo(this.off('raft.append.commit-past-last-new') ? m.leaderCommit : Math.min(m.leaderCommit, lastNew));
    this.send(this.appendResponse(m.from, true, lastNew, 0, 0, 0, m.readCtx));
  }

  private appendResponse(
    to: NodeId,
    success: boolean,
    matchIndex: number,
    rejectedIndex: number,
    conflictTerm: number,
    conflictIndex: number,
    readCtx: string | null,
  ): AppendEntriesResponse {
    return {
      type: 'AppendEntriesResponse',
      from: this.id,
      to,
      term: this.currentTerm,
      success,
      matchIndex,
      rejectedIndex,
      conflictTerm,
      conflictIndex,
      readCtx,
    };
  }

  private handleInstallSnapshot(m: InstallSnapshot): void {
    if (this.role !== 'follower') this.becomeFollower(m.term, m.from);
    this.leader = m.from;
    this.electionElapsed = 0;
    const snap = m.snapshot;
    this.heardLeaderCommit(snap.lastIncludedIndex); // a snapshot holds committed entries only
    let matchIndex: number;
    if (snap.lastIncludedIndex <= this.log.commitIndex && !this.off('raft.snapshot.install-stale')) {
      matchIndex = this.log.commitIndex;
    } else if (this.log.matchTerm(snap.lastIncludedIndex, snap.lastIncludedTerm) && !this.off('raft.snapshot.discard-matching-log')) {
      // We already hold the snapshot's last entry: it is committed, keep the log.
      this.log.commitTo(snap.lastIncludedIndex);
      matchIndex = snap.lastIncludedIndex;
    } else {
      this.log.restore(snap);
      this.baseConfiguration = snap.configuration;
      this.reloadConfiguration();
      matchIndex = snap.lastIncludedIndex;
    }
    this.send({ type: 'InstallSnapshotResponse', from: this.id, to: m.from, term: this.currentTerm, matchIndex });
  }

  // ---------------------------------------------------------------- ReadIndex

  /** A read at this leader, its own (`from` null) or a follower's. */
  private leaderRead(ctx: string, from: NodeId | null): void {
    // A new leader does not know its commit index until it commits an entry of its own term.
    if (this.log.term(this.log.commitIndex) !== this.currentTerm && !this.off('raft.read-index.skip-own-term-commit')) {
      this.readsAwaitingCommit.push({ ctx, from });
      return;
    }
    this.startRead(ctx, from);
  }

  private startRead(ctx: string, from: NodeId | null): void {
    const read: PendingRead = { ctx, index: this.log.commitIndex, acks: new Set(this.isVoter(this.id) ? [this.id] : []), from };
    this.pendingReads.push(read);
    if (!this.releaseConfirmedReads()) {
      for (const [id, pr] of this.progress) if (!pr.isLearner) this.sendHeartbeat(id, pr, ctx);
    }
  }

  private ackRead(ctx: string, from: NodeId): void {
    if (!this.isVoter(from) && !this.off('raft.read-index.ack-non-voter')) return;
    const read = this.pendingReads.find((r) => r.ctx === ctx);
    if (!read) return;
    read.acks.add(from);
    this.releaseConfirmedReads();
  }

  /** A quorum acknowledging a read also confirms every read queued before it. */
  private releaseConfirmedReads(): boolean {
    const q = quorumOf(this.configuration.voters.length);
    let upTo = -1;
    for (let i = this.pendingReads.length - 1; i >= 0; i--) {
      if (this.pendingReads[i].acks.size >= q || this.off('raft.read-index.skip-confirmation')) {
        upTo = i;
        break;
      }
    }
    if (upTo < 0) return false;
    for (const r of this.pendingReads.splice(0, upTo + 1)) this.answerRead(r.ctx, r.from, r.index);
    return true;
  }

  private answerRead(ctx: string, from: NodeId | null, index: number | null): void {
    if (from !== null) this.send({ type: 'ReadIndexResponse', from: this.id, to: from, term: this.currentTerm, ctx, index });
    else if (index !== null) this.readStates.push({ ctx, index });
    else this.readFailures.push({ ctx, leaderHint: this.leader });
  }

  private releaseReadsAwaitingCommit(): void {
    const waiting = this.readsAwaitingCommit;
    this.readsAwaitingCommit = [];
    for (const r of waiting) this.startRead(r.ctx, r.from);
  }

  private failPendingReads(): void {
    for (const r of [...this.pendingReads, ...this.readsAwaitingCommit]) this.answerRead(r.ctx, r.from, null);
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
  }

  /** A follower's read answered: servable once applied >= index, if still asked of this leader in this term. */
  private onReadIndexResponse(m: ReadIndexResponse): void {
    const at = this.forwardedReads.findIndex((r) => r.ctx === m.ctx);
    if (at < 0) return;
    const [read] = this.forwardedReads.splice(at, 1);
    const mismatch = (m.from !== read.leader || m.term !== read.term) && !this.off('raft.read-index.follower-trusts-any-answer');
    if (m.index === null || mismatch) this.failForwarded([read]);
    else this.readStates.push({ ctx: read.ctx, index: m.index });
  }

  /**
   * Forwarded reads fail when the leader they were asked of is no longer this follower's leader in
   * the same term (its answer could no longer be told from a deposed leader's), or after an
   * election timeout without an answer (the request or the answer was lost).
   */
  private checkForwardedReads(): void {
    if (this.forwardedReads.length === 0) return;
    const live = (r: ForwardedRead): boolean =>
      (this.off('raft.read-index.follower-trusts-any-answer') || (this.role === 'follower' && this.leader === r.leader && this.currentTerm === r.term)) &&
      this.ticks - r.since < this.cfg.electionTick;
    if (this.forwardedReads.every(live)) return;
    this.failForwarded(this.forwardedReads.filter((r) => !live(r)));
    this.forwardedReads = this.forwardedReads.filter(live);
  }

  private failForwarded(reads: ForwardedRead[]): void {
    for (const r of reads) this.readFailures.push({ ctx: r.ctx, leaderHint: this.leader });
  }

  // ---------------------------------------------------------------- membership

  /** The latest configuration entry in the log decides; none left (truncated, compacted): the base. */
  private reloadConfiguration(): void {
    const before = this.configuration;
    this.configIndex = 0;
    this.configuration = this.baseConfiguration;
    for (let i = this.log.lastIndex(); i > this.log.snapshotIndex(); i--) {
      const e = this.log.slice(i, i)[0];
      if (e.type !== 'config') continue;
      const conf = decodeConfiguration(e.data);
      if (conf === null) continue; // corrupt: skipped on every server alike
      this.configuration = conf;
      this.configIndex = i;
      break;
    }
    if (this.configuration !== before && this.role === 'leader') this.syncProgress();
  }

  /** The configuration in force at `index` (for a snapshot taken there). */
  private configurationAt(index: number): Configuration {
    for (let i = Math.min(index, this.log.lastIndex()); i > this.log.snapshotIndex(); i--) {
      const e = this.log.slice(i, i)[0];
      const conf = e.type === 'config' ? decodeConfiguration(e.data) : null;
      if (conf !== null) return conf;
    }
    return this.baseConfiguration;
  }

  /**
   * May this server campaign? A voter may; so may a server whose own removal or demotion is the
   * uncommitted change at the end of its log: it may hold the only copy of it (a leader that
   * appended it and then lost its leadership), and the voters of the configuration before it would
   * wait for its vote forever while refusing theirs for their shorter logs. Elected by a majority of
   * its latest configuration, it leads without counting itself until the change commits, then hands
   * off (the simulator found that deadlock).
   */
  private promotable(): boolean {
    if (this.isVoter(this.id)) return true;
    return this.configIndex > this.log.commitIndex && this.configurationAt(this.configIndex - 1).voters.includes(this.id);
  }

  /** A leader's progress follows the configuration: new members probed from the end of the log, removed ones forgotten. */
  private syncProgress(): void {
    const members = new Set(this.members());
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      if (id === this.id) continue;
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = !this.isVoter(id);
      else this.progress.set(id, new Progress(this.log.lastIndex() + 1, !this.isVoter(id)));
    }
    if (this.leadTransferee !== null && !this.isVoter(this.leadTransferee)) this.leadTransferee = null;
  }

  /**
   * The change that removed or demoted this leader committed: step down, and tell the most
   * up-to-date voter to campaign at once rather than wait for an election timeout (§3.10's
   * TimeoutNow; the dissertation's §4.2.2 leaves the timeout, hashicorp/raft hands off like this).
   */
  private handOffLeadership(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const [id, pr] of this.progress) {
      if (this.isVoter(id) && pr.matchIndex > bestMatch) {
        best = id;
        bestMatch = pr.matchIndex;
      }
    }
    if (best !== null && bestMatch === this.log.lastIndex()) this.send({ type: 'TimeoutNow', from: this.id, to: best, term: this.currentTerm });
    this.becomeFollower(this.currentTerm, null);
  }

  // ---------------------------------------------------------------- helpers

  /** A node holding MAX_TERM can never start an election again: report it, once. */
  private checkTermCeiling(): void {
    if (this.currentTerm < MAX_TERM || this.fatal !== null || this.off('raft.term.skip-ceiling')) return;
    this.fatal = { reason: 'term-exhausted', term: this.currentTerm };
    this.fatalPending = true;
  }

  /** Is the rule `name` switched off (a mutant, for mutation testing)? False in production. */
  private off(name: RaftMutant): boolean {
    return mutant(name) || (this.localMutants !== null && this.localMutants.has(name));
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private hardState(): HardState {
    return {
      currentTerm: this.currentTerm,
      votedFor: this.off('raft.vote.forget') ? null : this.votedFor,
      commitIndex: this.log.commitIndex,
    };
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.currentTerm };
  }

  private members(): NodeId[] {
    return [...this.configuration.voters, ...this.configuration.learners];
  }

  private isMember(id: NodeId): boolean {
    return this.configuration.voters.includes(id) || this.configuration.learners.includes(id);
  }

  private isVoter(id: NodeId): boolean {
    return this.configuration.voters.includes(id);
  }
}

/** At least one entry, then as many as fit in `maxBytes` of data (frames must stay small for pub/sub). */
function capBytes(entries: Entry[], maxBytes: number | undefined): Entry[] {
  if (maxBytes === undefined) return entries;
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += entries[i].data?.length ?? 0;
    if (bytes > maxBytes && i > 0) return entries.slice(0, i);
  }
  return entries;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.currentTerm === b.currentTerm && a.votedFor === b.votedFor && a.commitIndex === b.commitIndex;
}
