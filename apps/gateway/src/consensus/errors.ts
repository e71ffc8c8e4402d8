/**
 * The two ways a consensus call can fail that a client must tell apart: nothing happened
 * (safe to retry later), or something may have happened (retry with the same request id).
 */

/** No leader/primary was reached, or every one reached refused (no quorum, killed): nothing was applied. */
export class ConsensusUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly requestId: string,
  ) {
    super(`no leader could take the request (${reason})`);
    this.name = 'ConsensusUnavailableError';
  }
}

/**
 * The request went out but no answer came before the deadline, or the replicas no longer remember
 * its answer (`why`): it may or may not have been applied.
 */
export class ConsensusTimeoutError extends Error {
  constructor(
    readonly requestId: string,
    readonly timeoutMs: number,
    readonly why?: string,
  ) {
    super(`${why ?? `no answer within ${timeoutMs} ms`}; the outcome is unknown`);
    this.name = 'ConsensusTimeoutError';
  }
}

/** The gateway is shutting down: the call was abandoned. */
export class ConsensusClosedError extends ConsensusUnavailableError {
  constructor(requestId: string) {
    super('gateway shutting down', requestId);
    this.name = 'ConsensusClosedError';
  }
}
