import { Packr } from 'msgpackr';
import {
  GENESIS_HASH,
  LedgerChain,
  pbftBlockHash,
  recheckChain,
  type ChainCheck,
  type LedgerBlocksAnswer,
  type LedgerCheckpointCertificate,
  type LedgerHead,
  type PbftLedgerBlock,
} from '@app/consensus/ledger';
import type { ExecutedBatch, PbftStableCheckpoint } from '@app/consensus/pbft';
import type { DurableStore } from '@app/storage';
import { LedgerCompactedError, withRetries, type LedgerReader } from './ledger-reader';

/** The PBFT store's records are msgpack of the core's plain objects (pbft/codec.ts). */
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Stable checkpoint certificates kept for block answers (the newest ones). */
const CERTIFICATES_KEPT = 64;

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function toBlock(b: ExecutedBatch, prevHash: string, hash: string): PbftLedgerBlock {
  return {
    index: b.seq,
    digest: b.digest,
    requests: b.requests.map((r) => ({ client: r.client, id: r.id, position: r.position, result: b64(r.result) })),
    prevHash,
    hash,
  };
}

function toCertificate(cp: PbftStableCheckpoint): LedgerCheckpointCertificate | null {
  if (!cp.ledger) return null;
  return {
    seq: cp.seq,
    stateDigest: cp.ledger.stateDigest,
    head: cp.ledger.head,
    digest: cp.digest,
    proof: cp.proof.map((c) => ({ from: c.from, seq: c.seq, digest: c.digest, sig: b64(c.sig) })),
  };
}

/**
 * The PBFT replica's ledger: block n is executed sequence number n (ledger/block.ts). The core
 * computes each block's hash as it executes (the head is replicated state, signed in checkpoints);
 * this keeps the recent hashes, the recent blocks themselves — the stream only holds what follows
 * the stable checkpoint, and the blocks a certificate covers are at or below it — and the stable
 * checkpoint certificates, so that an answer carries what a client checks blocks against.
 */
export class PbftLedger implements LedgerReader {
  private chain = new LedgerChain({ index: 0, hash: GENESIS_HASH });
  private recent: PbftLedgerBlock[] = [];
  private readonly certificates = new Map<number, LedgerCheckpointCertificate>();

  constructor(
    private readonly store: DurableStore,
    /** Recent blocks kept in memory (a few checkpoint intervals). */
    private readonly keepBlocks: number,
  ) {}

  /** At start: the stored stable checkpoint (null: none, the chain starts at genesis). */
  start(cp: PbftStableCheckpoint | null): void {
    if (cp === null || cp.seq === 0) return;
    this.chain = new LedgerChain(cp.ledger ? { index: cp.seq, hash: cp.ledger.head } : null, cp.seq);
    this.recent = [];
    this.stable(cp);
  }

  /** Batches executed (and made durable) in one Ready, in order. */
  executed(batches: readonly ExecutedBatch[]): void {
    for (const b of batches) {
      if (b.hash === undefined || b.prevHash === undefined) {
        this.chain = new LedgerChain(null, b.seq);
        this.recent = [];
        continue;
      }
      // A jump (state transfer) or a re-execution (divergence repair): the chain resumes where the core's did.
      if (b.seq !== this.chain.lastIndex + 1 || this.chain.hashAt(b.seq - 1) !== b.prevHash) {
        this.chain = new LedgerChain({ index: b.seq - 1, hash: b.prevHash }, b.seq - 1);
        this.recent = [];
      }
      this.chain.append(b.seq, () => b.hash!);
      this.recent.push(toBlock(b, b.prevHash, b.hash));
    }
    if (this.recent.length >= 2 * this.keepBlocks) this.recent = this.recent.slice(this.recent.length - this.keepBlocks);
  }

  /** A stable checkpoint this replica holds the state of: its certificate; a state transfer moves the chain there. */
  stable(cp: PbftStableCheckpoint): void {
    if (cp.seq > this.chain.lastIndex) {
      this.chain = new LedgerChain(cp.ledger ? { index: cp.seq, hash: cp.ledger.head } : null, cp.seq);
      this.recent = [];
    }
    const cert = toCertificate(cp);
    if (cert === null) return;
    this.certificates.set(cp.seq, cert);
    if (this.certificates.size > CERTIFICATES_KEPT) this.certificates.delete(Math.min(...this.certificates.keys()));
  }

  head(): LedgerHead | null {
    return this.chain.head();
  }

  hashAt(index: number): string | undefined {
    return this.chain.hashAt(index);
  }

  private async stored(): Promise<{ base: LedgerHead | null; batches: ExecutedBatch[] }> {
    const st = await this.store.load();
    const batches = st.records.map((r) => packr.unpack(r.data) as ExecutedBatch);
    if (!st.snapshot) return { base: { index: 0, hash: GENESIS_HASH }, batches };
    const cp = packr.unpack(st.snapshot.data) as PbftStableCheckpoint;
    return { base: cp.ledger ? { index: cp.seq, hash: cp.ledger.head } : null, batches };
  }

  async blocks(from: number, limit: number): Promise<LedgerBlocksAnswer> {
    const upTo = Math.min(this.chain.lastIndex, from + limit - 1);
    const head = this.chain.head();
    let blocks: PbftLedgerBlock[];
    let compactedThrough: number;
    const first = this.recent.length > 0 ? this.recent[0].index : this.chain.lastIndex + 1;
    if (from >= first || from > upTo) {
      blocks = this.recent.filter((b) => b.index >= from && b.index <= upTo);
      compactedThrough = first - 1;
    } else {
      // Older than the blocks in memory: what the stream still holds (after the stored checkpoint).
      const { base, batches } = await withRetries(() => this.stored());
      compactedThrough = Math.min(first - 1, base?.index ?? first - 1);
      if (base === null || from <= base.index) throw new LedgerCompactedError(compactedThrough);
      blocks = [];
      let prev = base.hash;
      for (const b of batches) {
        if (b.seq > upTo) break;
        const hash = pbftBlockHash(prev, b);
        if (b.seq >= from) blocks.push(toBlock(b, prev, hash));
        prev = hash;
      }
    }
    const last = blocks.length > 0 ? blocks[blocks.length - 1].index : -1;
    const certificates = [...this.certificates.values()].filter((c) => c.seq >= from && c.seq <= last).sort((a, b) => a.seq - b.seq);
    return { protocol: 'pbft', blocks, head, compactedThrough, certificates };
  }

  async verify(): Promise<ChainCheck> {
    const upTo = this.chain.lastIndex;
    if (!this.chain.anchored) return { intact: true, index: upTo, head: null, reason: 'the state predates the ledger (a checkpoint without a head)' };
    const { base, batches } = await withRetries(() => this.stored());
    if (base === null) return { intact: false, index: upTo, head: null, reason: 'the stored checkpoint has no ledger head, the executed chain has one' };
    return recheckChain(
      base,
      batches.map((b) => ({ index: b.seq, hashOf: (prev: string) => pbftBlockHash(prev, b) })),
      upTo,
      (i) => this.chain.hashAt(i),
    );
  }
}
