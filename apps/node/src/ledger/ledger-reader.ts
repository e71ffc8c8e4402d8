import type { ChainCheck, LedgerBlocksAnswer, LedgerHead } from '@app/consensus/ledger';

/** A range of blocks that storage no longer holds (compacted into a snapshot / stable checkpoint). */
export class LedgerCompactedError extends Error {
  constructor(readonly compactedThrough: number) {
    super(`blocks at or below ${compactedThrough} are compacted`);
    this.name = 'LedgerCompactedError';
  }
}

/** Blocks per answer at most, whatever is asked (a frame on the bus stays small). */
export const MAX_LEDGER_BLOCKS = 1000;

/** What a runtime offers of its ledger: the head for beacons, blocks and the storage recheck for the gateway. */
export interface LedgerReader {
  head(): LedgerHead | null;
  hashAt(index: number): string | undefined;
  /** Applied blocks from `from`, at most `limit`; throws LedgerCompactedError below what storage holds. */
  blocks(from: number, limit: number): Promise<LedgerBlocksAnswer>;
  /** Recomputes the chain from storage up to the applied index, against the hashes recorded when applying. */
  verify(): Promise<ChainCheck>;
}

/** Storage may be loaded while the replica writes (a compaction mid-way): try again a few times. */
export async function withRetries<T>(f: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (err) {
      if (i >= attempts || err instanceof LedgerCompactedError) throw err;
    }
  }
}
