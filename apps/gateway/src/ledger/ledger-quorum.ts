import {
  pbftBlockHash,
  raftBlockHash,
  type LedgerBlock,
  type LedgerBlocksAnswer,
  type LedgerCheckpointCertificate,
  type PbftLedgerBlock,
  type RaftLedgerBlock,
} from '@app/consensus/ledger';

/** Does every block rehash to its hash from its content, and link to the one before? */
export function blocksHold(answer: LedgerBlocksAnswer): boolean {
  let prev: LedgerBlock | null = null;
  for (const b of answer.blocks) {
    if (prev !== null && (b.index !== prev.index + 1 || b.prevHash !== prev.hash)) return false;
    try {
      if (rehash(answer.protocol, b) !== b.hash) return false;
    } catch {
      return false;
    }
    prev = b;
  }
  return true;
}

function rehash(protocol: 'raft' | 'pbft', b: LedgerBlock): string {
  if (protocol === 'raft') {
    const r = b as RaftLedgerBlock;
    return raftBlockHash(r.prevHash, { index: r.index, term: r.term, type: r.type, data: r.data === null ? null : Buffer.from(r.data, 'base64') });
  }
  const p = b as PbftLedgerBlock;
  return pbftBlockHash(p.prevHash, { seq: p.index, digest: p.digest, requests: p.requests.map((q) => ({ ...q, result: Buffer.from(q.result, 'base64') })) });
}

/**
 * PBFT's blocks as reads are answered: from `from` on, each block whose hash f+1 replicas report
 * (so at least one correct replica executed it), while the run lasts. Answers whose blocks do not
 * rehash are not counted. The certificates of the answers ride along, for the client to check
 * (ledger/certificate.ts): the gateway vouches for nothing a client cannot check itself.
 */
export function agreedBlocks(answers: readonly LedgerBlocksAnswer[], from: number, f: number): LedgerBlocksAnswer | null {
  const valid = answers.filter(blocksHold);
  // index -> hash -> votes
  const votes = new Map<number, Map<string, { block: LedgerBlock; count: number }>>();
  for (const a of valid) {
    for (const b of a.blocks) {
      let at = votes.get(b.index);
      if (at === undefined) votes.set(b.index, (at = new Map()));
      const v = at.get(b.hash);
      if (v) v.count++;
      else at.set(b.hash, { block: b, count: 1 });
    }
  }
  const blocks: LedgerBlock[] = [];
  for (let i = from, prev: LedgerBlock | null = null; ; i++) {
    const agreed = [...(votes.get(i)?.values() ?? [])].find((v) => v.count >= f + 1 && (prev === null || v.block.prevHash === prev.hash));
    if (agreed === undefined) break;
    blocks.push(agreed.block);
    prev = agreed.block;
  }
  if (valid.length === 0) return null;
  const last = blocks.length > 0 ? blocks[blocks.length - 1].index : -1;
  const certificates = new Map<string, LedgerCheckpointCertificate>();
  for (const a of valid) for (const c of a.certificates ?? []) if (c.seq >= from && c.seq <= last) certificates.set(`${c.seq}:${c.digest}:${c.head}`, c);
  // The head f+1 replicas agree on is the last agreed block; each replica's own head is in /v1/ledger/verify.
  const head = blocks.length > 0 ? { index: last, hash: blocks[blocks.length - 1].hash } : null;
  return {
    protocol: 'pbft',
    blocks,
    head,
    compactedThrough: Math.min(...valid.map((a) => a.compactedThrough)),
    certificates: [...certificates.values()].sort((a, b) => a.seq - b.seq),
  };
}
