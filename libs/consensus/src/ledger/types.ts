/**
 * The ledger as clients see it (GET /v1/ledger/blocks), in JSON: bytes are base64. Plain data, shared
 * by the replicas (which answer it), the gateway (which serves it) and the verifier (which checks it).
 */

/** A Raft block: one log entry. */
export interface RaftLedgerBlock {
  index: number;
  term: number;
  /** The entry's type ('normal', 'noop', ...). */
  type: string;
  /** The entry's data, base64 (null for a noop). */
  data: string | null;
  prevHash: string;
  hash: string;
}

/** One request a PBFT batch executed (a retried one executes nothing and is not listed). */
export interface PbftLedgerRequest {
  client: string;
  id: string;
  position: number;
  /** The result bytes, base64. */
  result: string;
}

/** A PBFT block: one executed sequence number (an empty batch is the null request). */
export interface PbftLedgerBlock {
  index: number;
  /** The batch digest the commit certificate names. */
  digest: string;
  requests: PbftLedgerRequest[];
  prevHash: string;
  hash: string;
}

export type LedgerBlock = RaftLedgerBlock | PbftLedgerBlock;

/** One replica's signed CHECKPOINT message, as it is inside a stable certificate. */
export interface LedgerCheckpointVote {
  from: string;
  seq: number;
  digest: string;
  /** Signature, base64. */
  sig: string;
}

/**
 * A stable checkpoint certificate over the chain head: 2f+1 replicas signed
 * `digest` = checkpointLedgerDigest(stateDigest, head) for sequence number `seq`.
 */
export interface LedgerCheckpointCertificate {
  seq: number;
  stateDigest: string;
  head: string;
  digest: string;
  proof: LedgerCheckpointVote[];
}

/** What a replica (and the gateway) answers for a range of blocks. */
export interface LedgerBlocksAnswer {
  protocol: 'raft' | 'pbft';
  /** The blocks from `from`, ascending and contiguous (empty when `from` is past the head). */
  blocks: LedgerBlock[];
  /** The answering replica's head when it answered (null: its state predates the ledger). */
  head: { index: number; hash: string } | null;
  /** The oldest position still served (blocks at or below it were compacted away). */
  compactedThrough: number;
  /** PBFT: the stable checkpoint certificates at positions within the blocks' range. */
  certificates?: LedgerCheckpointCertificate[];
}
