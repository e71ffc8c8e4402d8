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
