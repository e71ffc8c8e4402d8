import type { KvItem, KvResult } from '@app/consensus/kv';
import type { RedirectBody } from '@app/wire';

/** A replica's reply, checked: the bus carries whatever anyone publishes on our channel. */
export type Reply =
  | { t: 'result'; corr: string; results: unknown[] }
  | { t: 'read-result'; corr: string; items: KvItem[]; revision: number }
  | { t: 'redirect'; corr: string; leader: string | null; reason: RedirectBody['reason'] | string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseReply(body: unknown): Reply | null {
  if (!isRecord(body) || typeof body.corr !== 'string') return null;
  switch (body.t) {
    case 'result':
      return Array.isArray(body.results) ? { t: 'result', corr: body.corr, results: body.results } : null;
    case 'read-result':
      return Array.isArray(body.items) && body.items.every(isItem) && isRevision(body.appliedIndex)
        ? { t: 'read-result', corr: body.corr, items: body.items, revision: body.appliedIndex }
        : null;
    case 'redirect':
      return {
        t: 'redirect',
        corr: body.corr,
        leader: typeof body.leader === 'string' && body.leader !== '' ? body.leader : null,
        reason: typeof body.reason === 'string' ? body.reason : 'unknown',
      };
    default:
      return null;
  }
}

export function isResult(v: unknown): v is KvResult {
  const op = isRecord(v) ? v.op : undefined;
  return (
    isRecord(v) &&
    (op === 'put' || op === 'delete' || op === 'cas' || op === 'conflict' || op === 'refused') &&
    typeof v.key === 'string' &&
    typeof v.revision === 'number'
  );
}

function isItem(v: unknown): v is KvItem {
  return (
    isRecord(v) &&
    typeof v.key === 'string' &&
    typeof v.value === 'string' &&
    isRevision(v.revision) &&
    isRevision(v.createRevision) &&
    v.modRevision === v.revision &&
    isRevision(v.version)
  );
}

function isRevision(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
