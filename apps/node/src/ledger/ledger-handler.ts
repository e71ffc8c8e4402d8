import type { LedgerBlocksReply, LedgerHashReply, LedgerRequest, LedgerVerifyReply } from '@app/wire';
import { LedgerCompactedError, MAX_LEDGER_BLOCKS, type LedgerReader } from './ledger-reader';

const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/**
 * A gateway's ledger request to this replica (authenticated by the control server's envelope), and
 * its answer. `reader` is the live runtime's ledger, null while the replica is killed: it has no
 * applied chain to compare storage with then, and says so.
 */
export async function answerLedger(id: string, reader: LedgerReader | null, req: unknown): Promise<LedgerBlocksReply | LedgerVerifyReply | LedgerHashReply> {
  const r = (req ?? {}) as Partial<LedgerRequest> & Record<string, unknown>;
  switch (r.action) {
    case 'verify':
      if (reader === null) return { id, alive: false };
      return { id, alive: true, ...(await reader.verify()) };
    case 'hash': {
      if (!isIndex(r.index)) throw new Error('ledger hash: index must be a non-negative integer');
      return { id, index: r.index, hash: reader?.hashAt(r.index) ?? null };
    }
    case 'blocks': {
      if (!isIndex(r.from) || r.from < 1) throw new Error('ledger blocks: from must be a positive integer');
      if (!isIndex(r.limit) || r.limit < 1) throw new Error('ledger blocks: limit must be a positive integer');
      if (reader === null) throw new Error(`${id} is killed`);
      try {
        return await reader.blocks(r.from, Math.min(r.limit, MAX_LEDGER_BLOCKS));
      } catch (err) {
        if (err instanceof LedgerCompactedError) return { compacted: err.compactedThrough };
        throw err;
      }
    }
    default:
      throw new Error(`unknown ledger action ${JSON.stringify(r.action)}`);
  }
}
