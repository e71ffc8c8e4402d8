import type { KvRequest, KvResult } from '@app/consensus/kv';
import type { Consistency, Protocol, QueryAnswer, ReadQuery } from '@app/wire';

export const CONSENSUS_CLIENT = Symbol('CONSENSUS_CLIENT');

/** A read's answer, and the store's applied revision it was read at. */
export interface ReadAnswer extends QueryAnswer {
  revision: number;
}

/** What a client of one protocol counts, for /metrics. */
export interface ConsensusClientStats {
  /** bodies sent to replicas, by type (propose, read); those of one turn for one replica share a frame (ManyBody) */
  frames: Record<string, number>;
  /** client requests carried by propose bodies (requests / propose bodies = mean batch size) */
  proposedRequests: number;
  /** requests sent again after an attempt went unanswered */
  retries: number;
  /** redirects received, by reason */
  redirects: Record<string, number>;
  /** replies for a correlation id no longer waited for */
  lateReplies: number;
  /** requests that ended unavailable (503) / with an unknown outcome (504) */
  unavailable: number;
  timedOut: number;
  /** requests waiting for an answer right now */
  inFlight: number;
}

/**
 * The client side of one consensus protocol: gets a command ordered and applied, and reads
 * answered, hiding who leads, redirects, retries and batching. Raft forwards to the leader;
 * PBFT (later) multicasts and waits for f+1 matching replies — both behind this interface.
 *
 * Rejects with ConsensusUnavailableError (nothing applied) or ConsensusTimeoutError (unknown).
 */
export interface ConsensusClient {
  readonly protocol: Protocol;
  /** Orders one command; a retried request id resolves to the first result. */
  submit(request: KvRequest): Promise<KvResult>;
  /** `id` names the read in errors (a read has no effect, so it needs no request id of its own). */
  read(id: string, query: ReadQuery, consistency: Consistency): Promise<ReadAnswer>;
  stats(): ConsensusClientStats;
  /** Abandons everything in flight (ConsensusClosedError). */
  close(): void;
}
