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
 */
export interface KvRequest {
  id: string;
  ts: number;
  cmd: KvCommand;
}

/** `revision` is always the log position at which the command was applied. */
export type KvResult =
  | { op: 'put'; key: string; value: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'cas'; key: string; succeeded: boolean; value: string | null; revision: number };

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
