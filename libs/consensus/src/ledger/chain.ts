/** A chain position: the block index and its hash (hex SHA-256). Index 0 is genesis. */
export interface LedgerHead {
  index: number;
  hash: string;
}

/** Recent block hashes kept for block queries and verification (about 64 bytes each). */
export const DEFAULT_LEDGER_WINDOW = 16_384;

/**
 * The chain as one replica applies it: the head, and the hashes of the most recent blocks (a
 * bounded window). It starts at a base — genesis, or the head a snapshot / stable checkpoint
 * carries — and `append` is called once per applied position, in order.
 *
 * A base of null means the replica's state predates the ledger (a snapshot without a head): the
 * chain is unanchored and stays so, counting positions only, until a snapshot with a head replaces
 * it. Anchoring it at some later point instead would give replicas that restarted from different
 * old snapshots different heads for the same history.
 */
export class LedgerChain {
  /** Hash of position `first - 1` (the base, or the newest block that left the window). */
  private anchor: LedgerHead | null;
  private first: number;
  private hashes: string[] = [];
  private last: number;

  constructor(
    base: LedgerHead | null,
    baseIndex = base?.index ?? 0,
    private readonly window = DEFAULT_LEDGER_WINDOW,
  ) {
    if (!(window >= 1)) throw new Error('LedgerChain: window must be at least 1');
    this.anchor = base;
    this.first = baseIndex + 1;
    this.last = baseIndex;
  }

  /** The last applied position and its hash; null while unanchored. */
  head(): LedgerHead | null {
    if (this.anchor === null) return null;
    return { index: this.last, hash: this.hashAt(this.last)! };
  }

  /** The last position appended (also while unanchored). */
  get lastIndex(): number {
    return this.last;
  }

  get anchored(): boolean {
    return this.anchor !== null;
  }

  /** The oldest position whose hash is still held (the base, or the window's edge). */
  get oldestIndex(): number {
    return this.first - 1;
  }

  /**
   * Appends position `index` (must be lastIndex + 1), its hash computed from the previous one.
   * Returns the new hash (null while unanchored).
   */
  append(index: number, hashOf: (prevHash: string) => string): string | null {
    if (index !== this.last + 1) throw new Error(`LedgerChain: appending ${index} after ${this.last}`);
    this.last = index;
    if (this.anchor === null) {
      this.first = index + 1;
      return null;
    }
    const hash = hashOf(this.hashAt(index - 1)!);
    this.hashes.push(hash);
    // Amortised trim: drop the older half of the window at once.
    if (this.hashes.length >= 2 * this.window) {
      const drop = this.hashes.length - this.window;
      this.anchor = { index: this.first + drop - 1, hash: this.hashes[drop - 1] };
      this.hashes = this.hashes.slice(drop);
      this.first += drop;
    }
    return hash;
  }

  /** The hash recorded at `index`, if still held (undefined outside the window or unanchored). */
  hashAt(index: number): string | undefined {
    if (this.anchor === null) return undefined;
    if (index === this.first - 1) return this.anchor.hash;
    if (index < this.first || index > this.last) return undefined;
    return this.hashes[index - this.first];
  }
}
