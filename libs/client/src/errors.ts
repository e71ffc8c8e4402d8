/** RFC 9457 problem details, as the gateway writes them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The request field at fault (400, 409, 413, 422). */
  field?: string;
  [extension: string]: unknown;
}

/** An answer the gateway gave that is not a success, and that retrying cannot change. */
export class SynodError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    message = problem?.detail ?? `HTTP ${status}`,
  ) {
    super(message);
    this.name = 'SynodError';
  }
}

/**
 * The client gave up: no gateway answered, or every attempt until the deadline was a 503 (nothing
 * applied) or a 504 (outcome unknown). `unknownOutcome` says whether a write may have been applied.
 */
export class SynodUnavailableError extends Error {
  constructor(
    message: string,
    readonly unknownOutcome: boolean,
    readonly lastStatus: number | null,
  ) {
    super(message);
    this.name = 'SynodUnavailableError';
  }
}

/**
 * 410: the revision asked for (a past read, a watch's start or resume point) is compacted: its
 * history is gone. `compactRevision` is the compaction point (NaN when the server did not say):
 * reads in the past need a revision at or above it, watches start after it (fromRevision
 * `compactRevision + 1` or later).
 */
export class SynodCompactedError extends SynodError {
  constructor(
    readonly compactRevision: number,
    problem: Problem | null = null,
    message = problem?.detail ?? `revision compacted (compactRevision ${compactRevision})`,
  ) {
    super(410, problem, message);
    this.name = 'SynodCompactedError';
  }
}

/** The error for a final (not retried) answer: 410 gets its own type, whatever the route. */
export function errorFor(status: number, problem: Problem | null): SynodError {
  if (status === 410) return new SynodCompactedError(Number(problem?.compactRevision ?? NaN), problem);
  return new SynodError(status, problem);
}

/**
 * Why a lease, a lock or a leadership is no longer known to be held:
 * - `gone`: the cluster said the lease does not exist (a keepalive's 404: it expired or was revoked);
 * - `unconfirmed`: no keepalive was acknowledged for a TTL — it may live on, but the client cannot
 *   know, so it must act as if it did not hold it;
 * - `key-deleted`: the lock's or the leadership's key was deleted (its lease revoked, or by hand);
 * - `revoked`, `closed`: this client let it go (revoke(), unlock(), resign(); close()).
 */
export type LostReason = 'gone' | 'unconfirmed' | 'key-deleted' | 'revoked' | 'closed';

/** What `lost` resolves with (a lease handle's, a lock's, a leadership's), and what a lost leader's proclaim() throws. */
export class SynodLeaseLostError extends Error {
  constructor(
    readonly leaseId: string,
    readonly reason: LostReason,
    message: string,
  ) {
    super(message);
    this.name = 'SynodLeaseLostError';
  }
}
