import type { Entry } from '@app/consensus/raft';
import {
  GENESIS_HASH,
  LedgerChain,
  raftBlockHash,
  recheckChain,
  unwrapSnapshot,
  type ChainCheck,
  type LedgerBlocksAnswer,
  type LedgerHead,
  type RaftLedgerBlock,
} from '@app/consensus/ledger';
import type { DurableStore } from '@app/storage';
import { fromStoredState } from '../raft/codec';
import { LedgerCompactedError, withRetries, type LedgerReader } from './ledger-reader';

/**
 * The Raft replica's ledger: block i is log entry i (index, term, type, data). The chain is extended
 * as entries are applied, restarts from the head a snapshot carries (ledger/snapshot.ts), and is
 * rechecked against the stored log (the Redis stream) on request.
 */
export class RaftLedger implements LedgerReader {
  private chain: LedgerChain;

  constructor(private readonly store: DurableStore) {
    this.chain = new LedgerChain({ index: 0, hash: GENESIS_HASH });
  }

  /** Start or snapshot install: the chain resumes at the snapshot's head (null: a snapshot from before the ledger). */
  reset(index: number, head: string | null): void {
    this.chain = new LedgerChain(head === null ? null : { index, hash: head }, index);
  }

  apply(e: Entry): void {
    this.chain.append(e.index, (prev) => raftBlockHash(prev, e));
  }

  head(): LedgerHead | null {
    return this.chain.head();
  }

  hashAt(index: number): string | undefined {
    return this.chain.hashAt(index);
  }

  /** The chain as storage holds it: the stored snapshot's head, then the stored entries. */
  private async stored(): Promise<{ base: LedgerHead | null; entries: Entry[] }> {
    const st = fromStoredState(await this.store.load());
    if (!st.snapshot) return { base: { index: 0, hash: GENESIS_HASH }, entries: st.entries };
    const head = unwrapSnapshot(st.snapshot.data).head;
    return { base: head === null ? null : { index: st.snapshot.lastIncludedIndex, hash: head }, entries: st.entries };
  }

  async blocks(from: number, limit: number): Promise<LedgerBlocksAnswer> {
    const upTo = Math.min(this.chain.lastIndex, from + limit - 1);
    const { base, entries } = await withRetries(() => this.stored());
    const head = this.chain.head();
    const compactedThrough = base?.index ?? (entries.length > 0 ? entries[0].index - 1 : this.chain.lastIndex);
    if (from <= compactedThrough) throw new LedgerCompactedError(compactedThrough);
    const blocks: RaftLedgerBlock[] = [];
    if (base !== null) {
      // Hashes from the stored content, so that every block answered rehashes to its hash.
      let prev = base.hash;
      for (const e of entries) {
        if (e.index > upTo) break;
        const hash = raftBlockHash(prev, e);
        if (e.index >= from)
          blocks.push({ index: e.index, term: e.term, type: e.type, data: e.data ? Buffer.from(e.data).toString('base64') : null, prevHash: prev, hash });
        prev = hash;
      }
    }
    return { protocol: 'raft', blocks, head, compactedThrough };
  }

  async verify(): Promise<ChainCheck> {
    const upTo = this.chain.lastIndex;
    if (!this.chain.anchored) return { intact: true, index: upTo, head: null, reason: 'the state predates the ledger (a snapshot without a head)' };
    const { base, entries } = await withRetries(() => this.stored());
    if (base === null) return { intact: false, index: upTo, head: null, reason: 'the stored snapshot has no ledger head, the applied chain has one' };
    return recheckChain(
      base,
      entries.map((e) => ({ index: e.index, hashOf: (prev: string) => raftBlockHash(prev, e) })),
      upTo,
      (i) => this.chain.hashAt(i),
    );
  }
}
