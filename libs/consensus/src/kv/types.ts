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
 * id = the client's request id (REST Idempotency-Key or generated); ts = proposer's wall-clock ms,
 * used only for deterministic session expiry (it is in the log, so every replica sees the same).
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

/** `revision` is always the log position at which the command was applied. */
export type KvResult =
  | { op: 'put'; key: string; value: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'cas'; key: string; succeeded: boolean; value: string | null; revision: number }
  /**
   * The request id was already used by a request with another fingerprint: nothing was applied
   * and nothing remembered (`key` is this request's key). The IETF Idempotency-Key draft's 422.
   */
  | { op: 'conflict'; key: string; revision: number };

/** A result that took effect (and is remembered for retries): every result but a conflict. */
export type KvEffect = Exclude<KvResult, { op: 'conflict' }>;

/** revision = the position of the key's last modification. */
export interface KvItem {
  key: string;
  value: string;
  revision: number;
}

export interface KvOptions {
  /** How long (in proposer ms, see KvRequest.ts) a request's result is remembered. Default 10 min. */
  sessionTtlMs?: number;
  /** At most this many results are remembered; the oldest applied go first. Default 100 000. */
  maxSessions?: number;
}

export const DEFAULT_SESSION_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 100_000;
