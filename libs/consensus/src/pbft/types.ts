import type { PbftMutant } from '../mutants';

/**
 * PBFT's vocabulary, named as in Castro & Liskov (OSDI '99, TOCS '02). Everything here is plain
 * data: it crosses the bus, the storage and the simulator as is. Digests are lowercase hex SHA-256.
 *
 * Every replica message carries `from` (its signer) and `sig` (over codec.signingPayload, which
 * leaves out `sig` and `to`: `to` is routing only, so a signed message can be relayed as a proof).
 */
export type ReplicaId = string;

/**
 * The highest view a message may carry and a replica may hold (Raft's MAX_TERM, for views). Views
 * are JS numbers: past Number.MAX_SAFE_INTEGER `view + 1` is no longer exact and the shape check
 * refuses it, so a replica there could never change view again. No cluster gets near it (2^53 view
 * changes; f Byzantine replicas cannot drag correct ones up, the join rule needs f+1). A message
 * with a higher view is dropped ('view-beyond-ceiling'); a replica holding MAX_VIEW reports it
 * (PbftReady.fatal) instead of failing its next view change silently.
 */
export const MAX_VIEW = Number.MAX_SAFE_INTEGER - 1;

/**
 * A condition the replica cannot get out of by itself: it keeps doing what it still safely can, but
 * an operator must act. `view-exhausted`: the view reached MAX_VIEW, so no view change is possible.
 */
export interface PbftFatal {
  reason: 'view-exhausted';
  view: number;
}

/** A client operation, signed by the client (the gateway holds its own key pair). */
export interface ClientRequest {
  client: string;
  /** Request id (Idempotency-Key): the state machine makes a retried id exactly-once. */
  id: string;
  ts: number;
  op: Uint8Array;
  sig: Uint8Array;
}

interface Signed {
  from: ReplicaId;
  /** Routing only: a replica id, or null for every other replica. Not signed. */
  to: ReplicaId | null;
  sig: Uint8Array;
}

/** A backup relays client requests it received to the primary of `view`. */
export interface Forward extends Signed {
  type: 'Forward';
  view: number;
  requests: ClientRequest[];
}

/**
 * <<PRE-PREPARE, v, n, d>σp, m>: the signature covers (view, seq, digest); the batch `requests`
 * rides along and is bound by `digest`. An empty batch is the null request.
 */
export interface PrePrepare extends Signed {
  type: 'PrePrepare';
  view: number;
  seq: number;
  digest: string;
  requests: ClientRequest[];
}

export interface Prepare extends Signed {
  type: 'Prepare';
  view: number;
  seq: number;
  digest: string;
}

export interface Commit extends Signed {
  type: 'Commit';
  view: number;
  seq: number;
  digest: string;
}

/** <CHECKPOINT, n, d, i>: d is the digest of the state after executing sequence number n. */
export interface Checkpoint extends Signed {
  type: 'Checkpoint';
  seq: number;
  digest: string;
}

/** Pm: a pre-prepare (with its batch) and 2f matching prepares from distinct backups. */
export interface PreparedCertificate {
  prePrepare: PrePrepare;
  prepares: Prepare[];
}

/** 2f+1 matching commits for (view, seq, digest) and the batch: proof that seq is decided. */
export interface CommitCertificate {
  view: number;
  seq: number;
  digest: string;
  requests: ClientRequest[];
  commits: Commit[];
}

/** <VIEW-CHANGE, v+1, n, C, P, i>: n = stable checkpoint, C its 2f+1 proof, P prepared certificates above n. */
export interface ViewChange extends Signed {
  type: 'ViewChange';
  /** The view being moved to. */
  view: number;
  stableSeq: number;
  checkpointProof: Checkpoint[];
  prepared: PreparedCertificate[];
}

/** <NEW-VIEW, v+1, V, O>: V = 2f+1 view-changes, O = the re-issued pre-prepares (null requests in gaps). */
export interface NewView extends Signed {
  type: 'NewView';
  view: number;
  viewChanges: ViewChange[];
  prePrepares: PrePrepare[];
}

/**
 * Periodic "I am at view v, stable checkpoint h, executed up to le" (the paper's status
 * messages). `slots[i]` describes seq max(le, h)+1+i in this view: bit 1 = has the pre-prepare,
 * 2 = prepared, 4 = committed, so that peers resend only what is missing.
 */
export interface Status extends Signed {
  type: 'Status';
  view: number;
  active: boolean;
  stableSeq: number;
  lastExecuted: number;
  slots: number[];
}

/** State transfer: asks for the checkpointed state at `seq` or later. */
export interface FetchState extends Signed {
  type: 'FetchState';
  seq: number;
}

/**
 * The answer to FetchState: a stable checkpoint with its 2f+1 proof. `snapshot` is not signed; the
 * receiver restores it and compares the app's digest with the certified `digest`.
 */
export interface StateTransfer extends Signed {
  type: 'State';
  seq: number;
  digest: string;
  /** Requests executed up to `seq` (the app's position counter). */
  position: number;
  snapshot: Uint8Array;
  proof: Checkpoint[];
  /**
   * The configuration changes before `seq` (reconfiguration.ts), for a receiver that trusts an older
   * configuration than the one that signed `proof`. Not signed: each link carries its own certificate.
   */
  links?: ConfigurationLink[];
}

/**
 * One replica set and where it began: it governs the sequence numbers above `since` (a checkpoint
 * boundary) until the next configuration's `since`. Epoch 0 is the genesis configuration.
 */
export interface PbftConfiguration {
  epoch: number;
  replicas: ReplicaId[];
  since: number;
}

/**
 * The evidence that `configuration` took over at its boundary `seq`: the stable checkpoint there,
 * certified by 2f+1 CHECKPOINTs of the configuration before it. `digest` binds the configuration:
 * it is reconfiguration.linkDigest(this, [previous, configuration]), `part` being the application's
 * and client table's share of the state at `seq` and `head` the ledger head there.
 */
export interface ConfigurationLink {
  configuration: PbftConfiguration;
  seq: number;
  digest: string;
  position: number;
  part: string;
  head: string | null;
  proof: Checkpoint[];
}

/** Asks for the committed batches after `after` (a lagging replica). */
export interface FetchCommitted extends Signed {
  type: 'FetchCommitted';
  after: number;
}

export interface CommittedBatches extends Signed {
  type: 'Committed';
  certificates: CommitCertificate[];
}

export type PbftMessage =
  Forward | PrePrepare | Prepare | Commit | Checkpoint | ViewChange | NewView | Status | FetchState | StateTransfer | FetchCommitted | CommittedBatches;

export type PbftMessageType = PbftMessage['type'];

/** <REPLY, v, t, c, i, r>: sent to the client; it accepts r on f+1 matching replies. */
export interface Reply {
  type: 'Reply';
  from: ReplicaId;
  /** The client. */
  to: string;
  view: number;
  /** The request id. */
  id: string;
  result: Uint8Array;
  sig: Uint8Array;
}

/** The replicated application: synchronous and deterministic. */
export interface PbftApp {
  /**
   * Executes one request at `position` (a running count of executed requests, from 1). `client` is
   * the request's signed client id (its signer is the part before any '/'). Must not throw.
   */
  execute(position: number, op: Uint8Array, client: string): Uint8Array;
  /** Digest of the whole state (equal states, equal digests). */
  digest(): string;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}

export interface PbftCrypto {
  /** Signs as this replica. */
  sign(payload: Uint8Array): Uint8Array;
  /** Checks `sig` by `signer` (a replica or a client); false for an unknown signer. */
  verify(signer: string, payload: Uint8Array, sig: Uint8Array): boolean;
}

export interface PbftConfig {
  id: ReplicaId;
  /**
   * All replicas in a fixed order, n = 3f+1; the primary of view v is replicas[v mod n]. This is the
   * genesis configuration (epoch 0, from sequence number 1); after a reconfiguration the one in force
   * comes from the replicated state (status().configuration).
   */
  replicas: ReplicaId[];
  /**
   * The signer (crypto.verify id, the part of a request's client before any '/') whose requests may
   * reconfigure the replica set (reconfiguration.ts). Unset: every reconfiguration request is
   * refused, and the replica set stays `replicas` for good. Must be the same on every replica.
   */
  admin?: string;
  /**
   * The configuration a replica trusts at start when it is not the genesis one: a replica added to
   * a reconfigured cluster is started with the configuration in force when it was added (it need
   * not be a member of it), and catches up by state transfer. Default: epoch 0, `replicas`, since 0.
   */
  configuration?: PbftConfiguration;
  app: PbftApp;
  crypto: PbftCrypto;
  /** Requests per pre-prepare at most. */
  maxBatch: number;
  /** A partial batch waits at most this many ticks at the primary (0 = cut at once). */
  batchTicks: number;
  /**
   * Batches the primary keeps ordered but not yet executed, at most (default 1). Requests that
   * arrive while the pipeline is full wait and leave together in the next batch, so batches grow
   * with the load and the per-batch work (a pre-prepare, prepares, commits and their signatures)
   * is shared by more requests, while a lone request still goes at once (BFT-SMaRt orders one
   * batch at a time the same way).
   */
  maxInflightBatches?: number;
  /** K: a checkpoint every K sequence numbers. */
  checkpointInterval: number;
  /** L: sequence numbers accepted in (h, h+L]; a multiple of K, at least 2K. */
  logWindow: number;
  /** Base timeout (ticks) of the request timer and the view-change timer; doubles per failed view. */
  requestTimeoutTicks: number;
  /** Status (retransmission) period in ticks; also the retry period of state transfer. */
  statusTicks: number;
  /**
   * Signs replies (default: crypto.sign). Only the client checks them, so a MAC with a key shared
   * with the gateway will do (the paper's authenticated replies) where signing every reply costs too much.
   */
  signReply?: (payload: Uint8Array) => Uint8Array;
  /** Uniform [0,1) generator, seeded by the caller (peer choice for state transfer). */
  random: () => number;
  /** Test hooks that break this replica on purpose (canaries). Never set in production. */
  faults?: PbftFaults;
}

/**
 * Canaries for one replica: each flag switches on one mutant of the catalogue (mutants.ts) for this
 * replica only, where a test must break some replicas and not others. Everything else uses the catalogue.
 */
export interface PbftFaults {
  /** The old toy's quorum: more than n/3 prepares (any sender, primary included) or commits suffice. */
  weakQuorum?: boolean;
  /** VIEW-CHANGE messages carry an empty P set. */
  dropPreparedSetInViewChange?: boolean;
  /** Take views above MAX_VIEW and change view past it without reporting (the silent stall it prevents). */
  skipViewCeiling?: boolean;
  /** Execute a request again even when its client's timestamp was executed (the replay it prevents). */
  skipTimestampCheck?: boolean;
  /** Keep the quorum sizes of the configuration in force at start after a reconfiguration. */
  keepOldQuorum?: boolean;
}

/** The mutant each PbftFaults flag switches on. */
export const PBFT_FAULT_MUTANTS = {
  weakQuorum: 'pbft.quorum.weak',
  dropPreparedSetInViewChange: 'pbft.view-change.drop-prepared-set',
  skipViewCeiling: 'pbft.view.skip-ceiling',
  skipTimestampCheck: 'pbft.request.skip-timestamp-check',
  keepOldQuorum: 'pbft.reconfiguration.keep-old-quorum',
} as const satisfies Record<keyof PbftFaults, PbftMutant>;

/** What must be durable before the messages of the same Ready are sent. */
export interface PbftHardState {
  view: number;
  /** False between sending VIEW-CHANGE for `view` and accepting its NEW-VIEW. */
  active: boolean;
  /**
   * The latest stable checkpoint certificate known (h), which may be ahead of the stored
   * stableCheckpoint while its state is being fetched: a restart must not fall back below it.
   */
  lowWaterMark: { seq: number; proof: Checkpoint[] };
}

/**
 * One sequence number's durable state. Upserted by seq; entries at or below the stable
 * checkpoint are garbage. Persisting the accepted pre-prepare before the prepare is sent, the
 * prepared certificate before the commit, makes a crash-restart look like a slow replica.
 */
export interface PbftLogEntry {
  seq: number;
  /** The pre-prepare accepted in the latest view (with its batch). */
  prePrepare: PrePrepare | null;
  /** The prepared certificate of the highest view in which seq prepared here. */
  prepared: PreparedCertificate | null;
  /** Set once committed-local: replayed (executed) on restart in seq order. */
  committed: CommitCertificate | null;
}

/** The latest stable checkpoint whose state this replica holds. */
export interface PbftStableCheckpoint {
  seq: number;
  digest: string;
  position: number;
  snapshot: Uint8Array;
  /** 2f+1 matching CHECKPOINT messages. */
  proof: Checkpoint[];
  /**
   * The ledger head at `seq` and the state digest it was signed with: `digest` =
   * checkpointLedgerDigest(stateDigest, head), so the certificate signs the head
   * (libs/consensus/src/ledger). Absent for a state from before the ledger.
   */
  ledger?: { stateDigest: string; head: string };
  /** The configuration changes up to `seq`, with their certificates (sent along in state transfer: reconfiguration.ts). */
  links?: ConfigurationLink[];
}

/** What was on stable storage at start (a fresh replica passes emptyPbftState()). */
export interface PbftPersistentState {
  hardState: PbftHardState;
  /** The NEW-VIEW that installed hardState.view (null in view 0): resent to replicas that missed it. */
  newView: NewView | null;
  stableCheckpoint: PbftStableCheckpoint | null;
  entries: PbftLogEntry[];
}

export interface ExecutedRequest {
  client: string;
  id: string;
  position: number;
  result: Uint8Array;
}

/** A batch executed at `seq` (empty for a null request). */
export interface ExecutedBatch {
  seq: number;
  digest: string;
  requests: ExecutedRequest[];
  /** The ledger block this batch is (libs/consensus/src/ledger): absent for a state from before the ledger. */
  prevHash?: string;
  hash?: string;
}

/**
 * One batch of work. The runtime must, in order:
 *  1. persist `stableCheckpoint` (if any; then drop stored entries at or below its seq), then
 *     `hardState`, `newView` and `entries` (upsert by seq) atomically;
 *  2. send `messages` (to = null: every other replica) and `replies` (to the client);
 *  then call `advance(ready)`. `executed` is informational (metrics, applied index); the app was
 *  already driven by the core.
 */
export interface PbftReady {
  hardState: PbftHardState | null;
  /** Set with the hard state of a view just installed. */
  newView: NewView | null;
  entries: PbftLogEntry[];
  stableCheckpoint: PbftStableCheckpoint | null;
  messages: PbftMessage[];
  replies: Reply[];
  executed: ExecutedBatch[];
  /** Set in the one Ready after the condition arose (status().fatal keeps it): log it, mark the replica unready. */
  fatal: PbftFatal | null;
}

export interface PbftStatus {
  id: ReplicaId;
  view: number;
  primary: ReplicaId;
  viewChanging: boolean;
  lastExecuted: number;
  /** Seq of the latest stable checkpoint this replica holds the state of. */
  stableCheckpoint: number;
  /** h: the latest stable checkpoint known (a certificate; the state may still be in transfer). */
  lowWaterMark: number;
  /** H = h + L. */
  highWaterMark: number;
  /** Requests received and not yet executed. */
  pendingRequests: number;
  /** Sequence numbers held in the log (all above h: the rest was garbage-collected). */
  logSize: number;
  /** Messages dropped, by reason. */
  dropped: Record<string, number>;
  /** Set for good once the replica cannot go on by itself (see PbftFatal); null while all is well. */
  fatal: PbftFatal | null;
  /** The configuration in force here: its replicas, n = 3f+1, and the sequence number after which it governs. */
  configuration: PbftConfigurationStatus;
  /** A configuration decided (executed) that takes over once checkpoint `since` is stable. */
  nextConfiguration: PbftConfigurationStatus | null;
  /** Whether this replica is in the configuration in force (false: joining, or removed). */
  member: boolean;
  /** Reconfiguration requests executed: applied (decided) and refused (not admin, bad set, one pending). */
  reconfigurations: { applied: number; refused: number };
}

export interface PbftConfigurationStatus {
  epoch: number;
  replicas: ReplicaId[];
  n: number;
  f: number;
  since: number;
}

export type ProposeResult = { ok: true; primary: ReplicaId } | { ok: false; reason: 'bad-request' | 'already-executed' };

export function emptyPbftState(): PbftPersistentState {
  return { hardState: { view: 0, active: true, lowWaterMark: { seq: 0, proof: [] } }, newView: null, stableCheckpoint: null, entries: [] };
}

/** A closer look for the fault lab (Replica.inspect): vote counts of the latest sequence numbers, and a view change under way. */
export interface PbftInspection {
  /** [seq, prepares held, commits held, committed-local 1|0], ascending, the latest `limit` seqs of the log. */
  slots: Array<[number, number, number, number]>;
  /** While view-changing: the view being changed to and the replicas whose VIEW-CHANGE for it this replica holds. */
  viewChange?: { to: number; from: ReplicaId[] };
}
