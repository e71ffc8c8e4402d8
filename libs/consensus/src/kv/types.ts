/**
 * The replicated key-value store's vocabulary. Everything here is plain data: a request travels
 * in log entries (encoded by codec.ts), a result travels back to the client.
 */

/** A command on one key. */
export type KeyCommand =
  /** `lease`: attach the key to that lease (it goes when the lease does); absent: detach it from any. */
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string }
  /** expected null = "key must be absent". */
  | { op: 'cas'; key: string; expected: string | null; value: string };

/** What a transaction's compare looks at (etcd's Compare.target); a missing key has value null and 0 for the rest. */
export type TxnTarget = 'value' | 'version' | 'createRevision' | 'modRevision';
export type TxnCompareOp = '=' | '!=' | '<' | '>';
/** `value`: a string or null when target is value, an integer otherwise. */
export interface TxnCompare {
  key: string;
  target: TxnTarget;
  op: TxnCompareOp;
  value: string | number | null;
}
/** One operation of a transaction branch. A range reads at most `limit` keys under `prefix`. */
export type TxnOp =
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'range'; prefix: string; limit: number };

/**
 * A transaction (etcd's Txn): if every compare holds, the success ops run, else the failure ops —
 * in order, at one revision. A branch writes a key at most once (validate.ts), so one revision
 * holds at most one event per key.
 */
export interface TxnCommand {
  op: 'txn';
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
}

/** Forget the change history up to and including `revision` (history.ts). */
export interface CompactCommand {
  op: 'compact';
  revision: number;
}

/**
 * Leases (leases.ts). `lease-expire` is a replica's vote that the lease ran out on its clock since
 * the renewal at `renewedAt`: it expires once KvOptions.leaseExpireQuorum replicas voted so.
 */
export type LeaseCommand =
  | { op: 'lease-grant'; ttlSeconds: number }
  | { op: 'lease-keepalive'; id: string }
  | { op: 'lease-revoke'; id: string }
  | { op: 'lease-expire'; id: string; renewedAt: number; voter: string };

/**
 * Topics and consumer groups (topics.ts): an append-only log per topic with offsets from 0, and per
 * group a committed offset, the acknowledged offsets above it and the deliveries in flight — all
 * replicated. `now` is the proposing gateway's clock (ms): it only times visibility timeouts,
 * redelivery delays and retention by age. A skewed clock redelivers early or late (at-least-once
 * holds either way); it never loses a message nor acknowledges one.
 */
export type TopicCommand =
  | { op: 'topic-publish'; topic: string; key: string | null; value: string; headers: Record<string, string> | null; now: number }
  /** Leases up to `max` deliverable messages to `consumer` for `visibilityMs` (the group is created at the topic's start on first use). */
  | { op: 'topic-fetch'; topic: string; group: string; consumer: string; max: number; visibilityMs: number; now: number }
  | { op: 'topic-ack'; topic: string; group: string; ids: string[] }
  /** The deliveries go back to the group, to be delivered again after `delayMs` (the attempt counts). */
  | { op: 'topic-nack'; topic: string; group: string; ids: string[]; delayMs: number; now: number };

export type KvCommand = KeyCommand | TxnCommand | CompactCommand | LeaseCommand | TopicCommand;

export type KvOp = KvCommand['op'];

/**
 * id = the client's request id (`rest:<Idempotency-Key>`, the gateway's own `<client>/<seq>`, a
 * batch's `job:<job>/<n>`); sessions.ts reads `<client>/<seq>` out of it. ts = the proposer's
 * wall clock, informational only: nothing in the state machine depends on it (a gateway clock
 * far ahead must not expire anything).
 * fingerprint = what the client asked, hashed (the gateway's SHA-256 of method, path and body):
 * kept with the session, so that the same id with another request is told apart from a retry.
 */
export interface KvRequest {
  id: string;
  ts: number;
  cmd: KvCommand;
  /** Absent: the id alone decides (a retry is whatever carries the id). */
  fingerprint?: string;
}

/** Longest fingerprint a request may carry (a SHA-256 in hex is 64). */
export const MAX_FINGERPRINT_LENGTH = 128;

/** Why a request is refused unapplied: it can no longer be told apart from one already applied (sessions.ts). */
export type RefusalReason = 'session-expired' | 'outside-window';

/** What one transaction op gave. */
export type TxnOpResult =
  | { op: 'put'; key: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'get'; key: string; item: KvItem | null }
  | { op: 'range'; prefix: string; items: KvItem[] };

/**
 * `revision` is always the log position at which the command was applied. `key` of a conflict or
 * a refusal is the command's key, '' for commands without one (txn, compact).
 */
export type KvResult =
  | { op: 'put'; key: string; value: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'cas'; key: string; succeeded: boolean; value: string | null; revision: number }
  /** `results[i]` answers op i of the branch that ran. */
  | { op: 'txn'; succeeded: boolean; results: TxnOpResult[]; revision: number }
  /** The compaction point after the command (never lowered: an older one is a no-op). */
  | { op: 'compact'; compactRevision: number; revision: number }
  | { op: 'lease-grant'; id: string; ttlSeconds: number; revision: number }
  /** found false: no such lease (expired or revoked); nothing renewed. */
  | { op: 'lease-keepalive'; id: string; found: boolean; ttlSeconds: number; revision: number }
  /** `deleted`: the keys it took with it, in one revision. */
  | { op: 'lease-revoke'; id: string; found: boolean; deleted: string[]; revision: number }
  | { op: 'lease-expire'; id: string; expired: boolean; deleted: string[]; revision: number }
  /** `id` = `<topic>/<offset>`: the message id, and the idempotency key of what handling it does. */
  | { op: 'topic-publish'; topic: string; id: string; offset: number; revision: number }
  | { op: 'topic-fetch'; topic: string; group: string; messages: TopicDelivery[]; revision: number }
  /** `unknown`: ids that name no message of this topic this group still has (never published, or retained no more). Acking twice is not unknown. */
  | { op: 'topic-ack'; topic: string; group: string; acked: string[]; unknown: string[]; revision: number }
  | { op: 'topic-nack'; topic: string; group: string; nacked: string[]; unknown: string[]; revision: number }
  /** A put (or a transaction's put) named a lease that does not exist: nothing was applied. */
  | { op: 'no-lease'; id: string; revision: number }
  /**
   * The request id was already used by a request with another fingerprint: nothing was applied
   * and nothing remembered (`key` is this request's key). The IETF Idempotency-Key draft's 422.
   */
  | { op: 'conflict'; key: string; revision: number }
  /**
   * The request id can no longer be told apart from one already applied (its client's session was
   * dropped, or its seq fell out of the client's window): nothing was applied, nothing remembered.
   */
  | { op: 'refused'; key: string; reason: RefusalReason; revision: number };

/** A result that took effect (and is remembered for retries): every result but a conflict or a refusal. */
export type KvEffect = Exclude<KvResult, { op: 'conflict' } | { op: 'refused' }>;
/** The effect of a KeyCommand. */
export type KeyEffect = Extract<KvEffect, { op: KeyCommand['op'] }>;

/**
 * A key as read (etcd's mvccpb.KeyValue): `modRevision` is the revision of its last change (also
 * given as `revision`, the name every earlier answer used), `createRevision` the revision that
 * created it (since it last did not exist), `version` the number of changes since then (1 on
 * creation). Revisions are log positions: cluster-wide, strictly increasing, not dense.
 */
export interface KvItem {
  key: string;
  value: string;
  revision: number;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease it is attached to, when it is. */
  lease?: string;
}

/**
 * One change, as the history keeps it: the key's state after it (`value` null for a delete) and
 * before it (`prev`, null when the key did not exist), so that a read at an older revision and a
 * watch event are both answered from it.
 */
export interface KvEvent {
  key: string;
  revision: number;
  value: string | null;
  /** After the change; 0 for a delete. */
  createRevision: number;
  version: number;
  prev: { value: string; modRevision: number; createRevision: number; version: number } | null;
}

/** One message as a fetch delivers it; `attempt` is 1 on first delivery. */
export interface TopicDelivery {
  id: string;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  attempt: number;
}

/** A topic as GET /v1/topics/{topic} shows it: `lag` = messages after `committed` not yet acknowledged. */
export interface TopicInfo {
  topic: string;
  startOffset: number;
  endOffset: number;
  groups: Array<{ group: string; committed: number; lag: number; inFlight: number }>;
}

/** A message as a tail (no group, nothing leased) reads it. */
export interface TopicMessage {
  id: string;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

export interface KvOptions {
  /** Results each client keeps: its this many most recent request seqs. Default 1000. */
  sessionWindow?: number;
  /** Results kept in all; past it the least recently active clients are dropped. Default 100 000. */
  maxSessions?: number;
  /** Changes the history keeps (watch, reads in the past); older ones are compacted away. Default 10 000. */
  historyEvents?: number;
  /** Bytes of keys and values the history keeps, at most (approximate). Default 64 MiB. */
  historyBytes?: number;
  /** `lease-expire` votes of distinct replicas that expire a lease: 1 under Raft (the leader's), f+1 under PBFT. Default 1. */
  leaseExpireQuorum?: number;
  /** Messages a topic keeps at most; the oldest go first. Default 100 000. */
  topicRetainMessages?: number;
  /** Messages older than this (by their publisher's `now`) go at the next publish to the topic; 0 = kept by count only. Default 0. */
  topicRetainMs?: number;
  /** Deliveries of one message to one group at most; the next is a copy to `<topic>.dlq` instead (dead letter). Default 5. */
  topicMaxAttempts?: number;
}

export const DEFAULT_SESSION_WINDOW = 1000;
export const DEFAULT_MAX_SESSIONS = 100_000;
export const DEFAULT_HISTORY_EVENTS = 10_000;
export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;
