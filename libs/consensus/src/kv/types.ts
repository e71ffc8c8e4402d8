/**
 * The replicated key-value store's vocabulary. Everything here is plain data: a request travels
 * in log entries (encoded by codec.ts), a result travels back to the client.
 */

export type KvCommand =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string }
  /** expected null = "key must be absent". */
  | { op: 'cas'; key: string; expected: string | null; value: string };

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

/** `revision` is always the log position at which the command was applied. */
export type KvResult =
  | { op: 'put'; key: string; value: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'cas'; key: string; succeeded: boolean; value: string | null; revision: number }
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
}

export interface KvOptions {
  /** Results each client keeps: its this many most recent request seqs. Default 1000. */
  sessionWindow?: number;
  /** Results kept in all; past it the least recently active clients are dropped. Default 100 000. */
  maxSessions?: number;
}

export const DEFAULT_SESSION_WINDOW = 1000;
export const DEFAULT_MAX_SESSIONS = 100_000;
