/**
 * The ledger's requests from a gateway to one replica, and the answers. They travel sealed over the
 * control plane's transport (libs/bus envelope, the replica's home Redis), on a pattern of their own
 * under the replica's control pattern: the same door, the same keys, the same channel ACL.
 */
import type { ChainCheck, LedgerBlocksAnswer, LedgerHead } from '@app/consensus/ledger';

export function ledgerPattern(cluster: string, node: string): string {
  return `synod.${cluster}.control.${node}.ledger`;
}

export type LedgerRequest =
  /** Applied blocks from `from`, at most `limit`. */
  | { action: 'blocks'; from: number; limit: number }
  /** Recompute the chain from storage, compare with what was recorded when applying. */
  | { action: 'verify' }
  /** The hash recorded at `index` (to compare replicas at one index). */
  | { action: 'hash'; index: number };

export type LedgerBlocksReply = LedgerBlocksAnswer | { compacted: number };

/** One replica's verdict on its own chain; `alive: false` when it is killed (nothing to check against). */
export type LedgerVerifyReply = ({ id: string; alive: true } & ChainCheck) | { id: string; alive: false };

export interface LedgerHashReply {
  id: string;
  index: number;
  /** null: not held (outside the window, not applied yet, or unanchored). */
  hash: string | null;
}

/** A beacon's ledger field: the head at the replica's applied index. */
export type BeaconLedger = LedgerHead | null;
