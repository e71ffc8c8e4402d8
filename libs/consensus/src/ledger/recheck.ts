import type { LedgerHead } from './chain';

/** One stored block, able to rehash itself from the hash before it. */
export interface StoredBlock {
  index: number;
  hashOf(prevHash: string): string;
}

/** What a replica says of its own chain (GET /v1/ledger/verify reports one per replica). */
export interface ChainCheck {
  intact: boolean;
  /** The position checked up to (the applied index when the check began). */
  index: number;
  /** The head recomputed from storage at `index` (null when unanchored or broken before it). */
  head: string | null;
  /** The first position whose stored content does not hash to what was recorded when applying. */
  firstBadIndex?: number;
  reason?: string;
}

/**
 * Recomputes the chain from what storage holds — the head the stored snapshot carries, then the
 * stored entries after it — up to `upTo`, and compares every hash with the one recorded when the
 * position was applied (`recorded`, undefined where the window no longer holds it). A stored entry
 * changed after it was applied rehashes differently, and so does every block after it: the first
 * mismatch is where storage went wrong.
 */
export function recheckChain(base: LedgerHead, blocks: Iterable<StoredBlock>, upTo: number, recorded: (index: number) => string | undefined): ChainCheck {
  const bad = (index: number, reason: string): ChainCheck => ({ intact: false, index: upTo, head: null, firstBadIndex: index, reason });
  const atBase = recorded(base.index);
  if (atBase !== undefined && atBase !== base.hash)
    return bad(base.index, `the stored snapshot's head at ${base.index} differs from the hash recorded when applying`);
  if (base.index >= upTo) {
    // The snapshot was taken at or past the point the check began (compaction raced it).
    return { intact: true, index: upTo, head: base.index === upTo ? base.hash : (recorded(upTo) ?? null) };
  }
  let prev = base.hash;
  let expected = base.index + 1;
  for (const b of blocks) {
    if (b.index < expected) continue;
    if (b.index > upTo) break;
    if (b.index !== expected) return bad(expected, `stored entry ${expected} is missing`);
    const hash = b.hashOf(prev);
    const was = recorded(b.index);
    if (was !== undefined && was !== hash) return bad(b.index, `stored entry ${b.index} does not hash to the block recorded when it was applied`);
    prev = hash;
    expected++;
  }
  if (expected <= upTo) return bad(expected, `the stored log ends at ${expected - 1}, below the applied index ${upTo}`);
  return { intact: true, index: upTo, head: prev };
}
