import type { KvEvent, KvItem, KvResult, QueryAnswer } from '@app/consensus/kv';
import type { RedirectBody } from '@app/wire';

/** A replica's reply, checked: the bus carries whatever anyone publishes on our channel. */
export type Reply =
  | { t: 'result'; corr: string; results: unknown[] }
  | ({ t: 'read-result'; corr: string; revision: number } & QueryAnswer)
  | { t: 'redirect'; corr: string; leader: string | null; reason: RedirectBody['reason'] | string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseReply(body: unknown): Reply | null {
  if (!isRecord(body) || typeof body.corr !== 'string') return null;
  switch (body.t) {
    case 'result':
      return Array.isArray(body.results) ? { t: 'result', corr: body.corr, results: body.results } : null;
    case 'read-result': {
      if (!Array.isArray(body.items) || !body.items.every(isItem) || !isRevision(body.appliedIndex)) return null;
      const answer: Reply = { t: 'read-result', corr: body.corr, items: body.items, revision: body.appliedIndex };
      if (body.events !== undefined) {
        if (!Array.isArray(body.events) || !body.events.every(isEvent)) return null;
        answer.events = body.events;
      }
      if (body.compacted !== undefined) {
        if (!isRevision(body.compacted)) return null;
        answer.compacted = body.compacted;
      }
      if (body.future === true) answer.future = true;
      if (body.lease !== undefined) {
        if (body.lease !== null && !isLease(body.lease)) return null;
        answer.lease = body.lease;
      }
      if (body.topic !== undefined) {
        if (body.topic !== null && !isTopicInfo(body.topic)) return null;
        answer.topic = body.topic;
      }
      if (body.messages !== undefined) {
        if (!Array.isArray(body.messages) || !body.messages.every(isTopicMessage)) return null;
        answer.messages = body.messages as NonNullable<QueryAnswer['messages']>;
      }
      return answer;
    }
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

/** The shape KvService relies on; a transaction's inner results are the replica's word, as a value's content is. */
export function isResult(v: unknown): v is KvResult {
  if (!isRecord(v) || typeof v.revision !== 'number') return false;
  switch (v.op) {
    case 'put':
    case 'delete':
    case 'cas':
    case 'conflict':
    case 'refused':
      return typeof v.key === 'string';
    case 'txn':
      return typeof v.succeeded === 'boolean' && Array.isArray(v.results) && v.results.every(isRecord);
    case 'compact':
      return isRevision(v.compactRevision);
    case 'lease-grant':
    case 'lease-keepalive':
    case 'lease-revoke':
    case 'lease-expire':
    case 'no-lease':
      return typeof v.id === 'string';
    case 'topic-publish':
      return typeof v.topic === 'string' && typeof v.id === 'string' && isRevision(v.offset);
    case 'topic-fetch':
      return typeof v.topic === 'string' && typeof v.group === 'string' && Array.isArray(v.messages) && v.messages.every(isTopicMessage);
    case 'topic-ack':
      return typeof v.topic === 'string' && typeof v.group === 'string' && isStrings(v.acked) && isStrings(v.unknown);
    case 'topic-nack':
      return typeof v.topic === 'string' && typeof v.group === 'string' && isStrings(v.nacked) && isStrings(v.unknown);
    default:
      return false;
  }
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** A topic's message as read or delivered (a delivery also has `attempt`). */
function isTopicMessage(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v.id === 'string' &&
    isRevision(v.offset) &&
    (v.key === null || typeof v.key === 'string') &&
    typeof v.value === 'string' &&
    isRecord(v.headers) &&
    Object.values(v.headers).every((h) => typeof h === 'string') &&
    (v.attempt === undefined || isRevision(v.attempt))
  );
}

function isTopicInfo(v: unknown): v is NonNullable<QueryAnswer['topic']> {
  return (
    isRecord(v) &&
    typeof v.topic === 'string' &&
    isRevision(v.startOffset) &&
    isRevision(v.endOffset) &&
    Array.isArray(v.groups) &&
    v.groups.every((g) => isRecord(g) && typeof g.group === 'string' && isRevision(g.committed) && isRevision(g.lag) && isRevision(g.inFlight))
  );
}

function isLease(v: unknown): v is NonNullable<QueryAnswer['lease']> {
  return (
    isRecord(v) &&
    typeof v.id === 'string' &&
    isRevision(v.ttlSeconds) &&
    isRevision(v.renewedAt) &&
    Array.isArray(v.keys) &&
    v.keys.every((k) => typeof k === 'string') &&
    (v.remainingMs === undefined || isRevision(v.remainingMs))
  );
}

function isEvent(v: unknown): v is KvEvent {
  return (
    isRecord(v) &&
    typeof v.key === 'string' &&
    isRevision(v.revision) &&
    (v.value === null || typeof v.value === 'string') &&
    isRevision(v.createRevision) &&
    isRevision(v.version) &&
    (v.prev === null || (isRecord(v.prev) && typeof v.prev.value === 'string'))
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
