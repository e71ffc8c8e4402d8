import { Packr } from 'msgpackr';

/**
 * A Raft snapshot's data with the ledger head at its last included index beside the application's
 * snapshot, so the head travels wherever the snapshot goes (compaction, restart, InstallSnapshot)
 * and a replica resumes the chain from it. The application's bytes stay as they were (its digest,
 * compared across replicas, is unchanged). Data written before the ledger is the application's
 * snapshot alone: it still loads, with no head (an unanchored chain, see LedgerChain).
 */
const MARK = 'synod-ledger-snapshot';
const VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: false });

export function wrapSnapshot(app: Uint8Array, head: string | null): Uint8Array {
  return packr.pack([MARK, VERSION, app, head]);
}

export function unwrapSnapshot(bytes: Uint8Array): { app: Uint8Array; head: string | null } {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch {
    return { app: bytes, head: null };
  }
  if (Array.isArray(v) && v[0] === MARK && v[2] instanceof Uint8Array) {
    if (v[1] !== VERSION) throw new Error(`ledger snapshot: unknown version ${String(v[1])}`);
    const head = typeof v[3] === 'string' && /^[0-9a-f]{64}$/.test(v[3]) ? v[3] : null;
    return { app: v[2], head };
  }
  return { app: bytes, head: null };
}
