import type { RaftMutant } from '../mutants';

/**
 * Raft's vocabulary, named as in the paper's Figure 2 and etcd's raft package.
 * Everything here is plain data: it crosses the bus, the storage and the simulator as is.
 */
export type NodeId = string;

/**
 * The highest term a message may carry and a node may hold. Terms are JS numbers: beyond
 * Number.MAX_SAFE_INTEGER `term + 1` is no longer exact (2^53 + 1 === 2^53) and the wire validator
 * refuses the result, so a node that adopted such a term could never win an election again. One
 * below the safe maximum, so that every term a node computes (at most MAX_TERM + 1) is still exact
 * and compares correctly. No real cluster gets near it (2^53 elections);
 * a term above it is forged or corrupt: the validator drops it and the core ignores it. A node that
 * holds MAX_TERM (a durable state from before this limit, or a message carrying exactly MAX_TERM)
 * cannot campaign any more and reports it (Ready.fatal) instead of failing silently.
 */
export const MAX_TERM = Number.MAX_SAFE_INTEGER - 1;

/** `config`: a membership change; its data is the whole new Configuration (raft/configuration.ts). */
export type EntryType = 'normal' | 'noop' | 'config';

/** One log entry. `data` is opaque to the core (an encoded state-machine command). */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array | null;
}

/** The state that must be on stable storage before any message of the same batch is sent. */
export interface HardState {
  currentTerm: number;
  votedFor: NodeId | null;
  commitIndex: number;
}

/**
 * Membership: a value, so that later membership changes replace it. Voters elect and count towards
 * quorums; learners receive the log and snapshots and do neither (Fabric's non-validating peers).
 */
export interface Configuration {
  voters: NodeId[];
  learners: NodeId[];
  /**
   * Ids removed from the cluster, never to be added again (absent: none). A server's vote and log
   * are its identity: a machine wiped and added back under a removed id would answer for the
   * server that had it, in configurations stale servers still hold (the simulator found a leader
   * elected without a committed entry that way). A replaced machine joins under a new id, as an
   * etcd member would.
   */
  retired?: NodeId[];
}

export interface Snapshot {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  configuration: Configuration;
  /** The state machine's serialized state at lastIncludedIndex. */
  data: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

interface Envelope {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** RequestVote; `preVote` marks the pre-vote round (§9.6): asks "would you vote", changes no state. */
export interface RequestVote extends Envelope {
  type: 'RequestVote';
  preVote: boolean;
  lastLogIndex: number;
  lastLogTerm: number;
  /** Set by a leadership transfer (TimeoutNow): voters must not ignore it for having a leader. */
  transfer: boolean;
}

export interface RequestVoteResponse extends Envelope {
  type: 'RequestVoteResponse';
  preVote: boolean;
  voteGranted: boolean;
}

export interface AppendEntries extends Envelope {
  type: 'AppendEntries';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
  /** Non-empty when the heartbeat carries a ReadIndex round (the leader's confirmation). */
  readCtx: string | null;
}

export interface AppendEntriesResponse extends Envelope {
  type: 'AppendEntriesResponse';
  success: boolean;
  /** On success: the last index now known to match the leader's log. */
  matchIndex: number;
  /** On failure: the prevLogIndex that was refused (lets the leader ignore stale refusals). */
  rejectedIndex: number;
  /** On failure: fast back-off hint (§5.3): the conflicting term and its first index, or the log length. */
  conflictTerm: number;
  conflictIndex: number;
  readCtx: string | null;
}

export interface InstallSnapshot extends Envelope {
  type: 'InstallSnapshot';
  snapshot: Snapshot;
}

export interface InstallSnapshotResponse extends Envelope {
  type: 'InstallSnapshotResponse';
  /** The snapshot's last index, now the follower's match index. */
  matchIndex: number;
}

/** Leadership transfer (§3.10): tells the target to start an election at once. */
export interface TimeoutNow extends Envelope {
  type: 'TimeoutNow';
}

/**
 * Follower ReadIndex (thesis §6.4.1): a follower asks its leader for a read index, so that it can
 * serve a linearizable read itself once it has applied that far; `ctx` names the follower's read.
 */
export interface ReadIndexRequest extends Envelope {
  type: 'ReadIndexRequest';
  ctx: string;
}

/** The leader's answer: its commitIndex once a quorum confirmed its leadership, or null (it cannot serve). */
export interface ReadIndexResponse extends Envelope {
  type: 'ReadIndexResponse';
  ctx: string;
  index: number | null;
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

/** A ReadIndex result: reads tagged `ctx` may be served once appliedIndex >= index. */
export interface ReadState {
  ctx: string;
  index: number;
}

/** A ReadIndex request that could not be served (not leader, lost leadership, no quorum). */
export interface ReadFailure {
  ctx: string;
  leaderHint: NodeId | null;
}

export interface SoftState {
  role: Role;
  leader: NodeId | null;
  term: number;
}

/**
 * A condition the core cannot get out of by itself: it keeps running what it still safely can, but
 * an operator must act. `term-exhausted`: currentTerm reached MAX_TERM, so this node can no longer
 * start an election (it still votes, follows and, if leader, leads in that term).
 */
export interface RaftFatal {
  reason: 'term-exhausted';
  term: number;
}

/**
 * One batch of work (etcd's Ready). The runtime must, in order:
 *  1. persist `snapshot` (if any), then `hardState` and `entries` atomically
 *     (entries starting at or below the last stored index replace that suffix);
 *  2. send `messages`;
 *  3. apply `committedEntries` (install `snapshot` into the state machine first);
 *  4. answer `readStates` once applied >= their index;
 *  then call `advance(ready)`.
 */
export interface Ready {
  softState: SoftState;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
  /** Set in the one Ready after the condition arose (status().fatal keeps it): log it, mark the node unready. */
  fatal: RaftFatal | null;
}

/** What was on stable storage at start (a fresh node passes an empty one). */
export interface PersistentState {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface RaftConfig {
  id: NodeId;
  /** The initial configuration (superseded by a snapshot's configuration when one is restored). */
  configuration: Configuration;
  /** Follower election timeout is drawn uniformly from [electionTick, 2*electionTick) ticks. */
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Entries per AppendEntries at most. */
  maxEntriesPerMessage: number;
  /** Entry data bytes per AppendEntries at most (one larger entry still goes alone). */
  maxBytesPerMessage?: number;
  /** AppendEntries in flight to one follower (unacknowledged) at most. */
  maxInflight: number;
  /**
   * A learner is promoted only when its matchIndex is at most this many entries behind the
   * leader's commitIndex (etcd refuses to promote a learner that has not caught up). Default:
   * maxEntriesPerMessage, one AppendEntries' worth.
   */
  learnerCatchUpSlack?: number;
  /** Uniform [0,1) generator, seeded by the caller. */
  random: () => number;
  /** Test hooks that break this node on purpose (canaries). Never set in production. */
  faults?: RaftFaults;
}

/**
 * Canaries for one node: each flag switches on one mutant of the catalogue (mutants.ts) for this
 * node only, where a test must break some nodes and not others. Everything else uses the catalogue.
 */
export interface RaftFaults {
  /** Grant votes without the log up-to-date check (§5.4.1). */
  skipUpToDateCheck?: boolean;
  /** Commit any entry replicated on a majority, even of an earlier term (Figure 8). */
  commitPreviousTermByCount?: boolean;
  /** Do not put votedFor into the hard state (so a crash forgets the vote). */
  forgetVote?: boolean;
  /** Adopt terms above MAX_TERM and campaign past it without reporting (the silent stall it prevents). */
  skipTermCeiling?: boolean;
}

/** The mutant each RaftFaults flag switches on. */
export const RAFT_FAULT_MUTANTS = {
  skipUpToDateCheck: 'raft.vote.skip-up-to-date-check',
  commitPreviousTermByCount: 'raft.commit.previous-term-by-count',
  forgetVote: 'raft.vote.forget',
  skipTermCeiling: 'raft.term.skip-ceiling',
} as const satisfies Record<keyof RaftFaults, RaftMutant>;

export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; leaderHint: NodeId | null; reason: 'not-leader' | 'transferring' };
