import { signingPayload } from '../pbft/codec';
import type { Checkpoint } from '../pbft/types';
import { checkpointLedgerDigest, pbftBlockHash } from './block';
import type { LedgerCheckpointCertificate, PbftLedgerBlock } from './types';

/** Checks one signer's signature on a payload (a replica's Ed25519 public key; see pbft/crypto.ts). */
export type SignatureCheck = (signer: string, payload: Uint8Array, sig: Uint8Array) => boolean;

export interface LedgerVerification {
  ok: boolean;
  /** Blocks at or below this index are certified by 2f+1 signatures (null: none in the answer). */
  certifiedThrough: number | null;
  error?: string;
}

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/**
 * A client's check of PBFT ledger blocks against stable checkpoint certificates, trusting nothing
 * but the replicas' public keys: every block must rehash to its hash from its prevHash and content,
 * the blocks must link up, every certificate must carry 2f+1 valid CHECKPOINT signatures from
 * distinct replicas over checkpointLedgerDigest(stateDigest, head), and a certificate whose sequence
 * number falls in the range must name the hash of that block as its head. Then every block up to
 * the highest such certificate is what 2f+1 replicas (so at least f+1 correct ones) executed.
 */
export function verifyPbftLedger(
  blocks: readonly PbftLedgerBlock[],
  certificates: readonly LedgerCheckpointCertificate[],
  replicas: readonly string[],
  check: SignatureCheck,
): LedgerVerification {
  const fail = (error: string): LedgerVerification => ({ ok: false, certifiedThrough: null, error });
  const byIndex = new Map<number, PbftLedgerBlock>();
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (i > 0 && (b.index !== blocks[i - 1].index + 1 || b.prevHash !== blocks[i - 1].hash))
      return fail(`block ${b.index} does not follow block ${blocks[i - 1].index}`);
    let hash: string;
    try {
      hash = pbftBlockHash(b.prevHash, { seq: b.index, digest: b.digest, requests: b.requests.map((r) => ({ ...r, result: b64(r.result) })) });
    } catch (err) {
      return fail(`block ${b.index} is malformed: ${(err as Error).message}`);
    }
    if (hash !== b.hash) return fail(`block ${b.index} does not hash to ${b.hash}`);
    byIndex.set(b.index, b);
  }
  const strong = 2 * Math.floor((replicas.length - 1) / 3) + 1;
  let certifiedThrough: number | null = null;
  for (const c of certificates) {
    const problem = certificateProblem(c, replicas, strong, check);
    if (problem !== null) return fail(`certificate at ${c.seq}: ${problem}`);
    const block = byIndex.get(c.seq);
    if (block === undefined) continue; // certifies blocks outside this answer
    if (block.hash !== c.head) return fail(`block ${c.seq} is not the head that 2f+1 replicas signed at ${c.seq}`);
    certifiedThrough = Math.max(certifiedThrough ?? 0, c.seq);
  }
  return { ok: true, certifiedThrough };
}

/** Null when the certificate holds: 2f+1 distinct replicas signed the digest of (state, head). */
export function certificateProblem(c: LedgerCheckpointCertificate, replicas: readonly string[], strong: number, check: SignatureCheck): string | null {
  if (checkpointLedgerDigest(c.stateDigest, c.head) !== c.digest) return 'the digest does not cover the head';
  const signers = new Set<string>();
  for (const v of c.proof) {
    if (v.seq !== c.seq || v.digest !== c.digest || !replicas.includes(v.from) || signers.has(v.from)) continue;
    const msg: Checkpoint = { type: 'Checkpoint', from: v.from, to: null, seq: v.seq, digest: v.digest, sig: b64(v.sig) };
    let ok: boolean;
    try {
      ok = check(v.from, signingPayload(msg), msg.sig);
    } catch {
      ok = false;
    }
    if (ok) signers.add(v.from);
  }
  return signers.size >= strong ? null : `${signers.size} valid signatures, ${strong} needed`;
}
