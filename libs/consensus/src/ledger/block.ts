import { createHash } from 'node:crypto';

/**
 * One block of the verifiable ledger is one committed log position, hashed with the hash before it:
 *
 *   hash_i = SHA-256(tag || prevHash (32 bytes) || content_i)
 *
 * so a block's hash covers every block before it, and two replicas with the same head at the same
 * index hold the same committed history. Genesis prevHash is 32 zero bytes. The content is what
 * every correct replica agrees on at that position, and nothing else:
 *  - Raft: log index, the entry's term (Log Matching makes it the same everywhere), its type and
 *    its data bytes (a noop has none);
 *  - PBFT: the sequence number, the batch digest the commit certificate names (it binds the signed
 *    requests) and what the batch's execution gave (client, request id, position, result bytes):
 *    results are deterministic, which is what lets a client accept f+1 matching replies. Not the
 *    view: replicas may commit one sequence number in different views.
 * Lengths are written before variable fields, so no two contents share an encoding.
 */
export const GENESIS_HASH = '0'.repeat(64);

const RAFT_TAG = 'synod/ledger/v1/raft';
const PBFT_TAG = 'synod/ledger/v1/pbft';
const CHECKPOINT_TAG = 'synod/ledger/v1/checkpoint';

export interface RaftBlockContent {
  index: number;
  term: number;
  type: string;
  data: Uint8Array | null;
}

export interface PbftExecutedRequest {
  client: string;
  id: string;
  position: number;
  result: Uint8Array;
}

export interface PbftBlockContent {
  seq: number;
  /** The batch digest (hex) of the commit certificate. */
  digest: string;
  requests: readonly PbftExecutedRequest[];
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function field(h: ReturnType<typeof createHash>, bytes: Uint8Array | string): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  h.update(u64(b.length));
  h.update(b);
}

function start(tag: string, prevHash: string): ReturnType<typeof createHash> {
  if (!/^[0-9a-f]{64}$/.test(prevHash)) throw new Error(`ledger: prevHash must be 64 hex digits, got ${JSON.stringify(prevHash)}`);
  const h = createHash('sha256');
  field(h, tag);
  h.update(Buffer.from(prevHash, 'hex'));
  return h;
}

export function raftBlockHash(prevHash: string, b: RaftBlockContent): string {
  const h = start(RAFT_TAG, prevHash);
  h.update(u64(b.index));
  h.update(u64(b.term));
  field(h, b.type);
  field(h, b.data ?? new Uint8Array(0));
  return h.digest('hex');
}

export function pbftBlockHash(prevHash: string, b: PbftBlockContent): string {
  const h = start(PBFT_TAG, prevHash);
  h.update(u64(b.seq));
  field(h, b.digest);
  h.update(u64(b.requests.length));
  for (const r of b.requests) {
    field(h, r.client);
    field(h, r.id);
    h.update(u64(r.position));
    field(h, r.result);
  }
  return h.digest('hex');
}

/**
 * What PBFT replicas sign in CHECKPOINT messages once the ledger exists: the state digest and the
 * chain head at that sequence number, so a stable checkpoint certificate (2f+1 signatures) certifies
 * the head, and with it every block before it. A state from before the ledger (head null) keeps the
 * plain state digest, so checkpoints stored then still verify.
 */
export function checkpointLedgerDigest(stateDigest: string, head: string | null): string {
  if (head === null) return stateDigest;
  const h = createHash('sha256');
  field(h, CHECKPOINT_TAG);
  field(h, stateDigest);
  h.update(Buffer.from(head, 'hex'));
  return h.digest('hex');
}
