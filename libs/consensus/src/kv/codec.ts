import { packr } from './msgpack';
import type { KvRequest } from './types';
import { KvValidationError, validateRequest } from './validate';

/**
 * Wire form of a request, a MessagePack array (field names would double the size of small commands):
 *   put    [id, ts, 0, key, value, fingerprint?]
 *   delete [id, ts, 1, key, fingerprint?]
 *   cas    [id, ts, 2, key, expected | nil, value, fingerprint?]
 *   txn    [id, ts, 3, compare, success, failure, fingerprint?]   (arrays of plain maps, validated on decode)
 *   compact [id, ts, 4, revision, fingerprint?]
 *   put with a lease [id, ts, 5, key, value, lease, fingerprint?]
 *   lease-grant [id, ts, 6, ttlSeconds, fp?]; lease-keepalive / lease-revoke [id, ts, 7 / 8, lease, fp?]
 *   lease-expire [id, ts, 9, lease, renewedAt, voter, fp?]
 *   topic-publish [id, ts, 10, topic, key | nil, value, [name, value, ...] | nil, now, fp?] (headers sorted by name)
 *   topic-fetch [id, ts, 11, topic, group, consumer, max, visibilityMs, now, fp?]
 *   topic-ack [id, ts, 12, topic, group, [id, ...], fp?]; topic-nack [id, ts, 13, topic, group, [id, ...], delayMs, now, fp?]
 * The fingerprint is one more element only when the request has one, so entries written before it
 * existed still decode (as requests without one).
 */
const OP_PUT = 0;
const OP_DELETE = 1;
const OP_CAS = 2;
const OP_TXN = 3;
const OP_COMPACT = 4;
const OP_PUT_LEASE = 5;
const OP_LEASE_GRANT = 6;
const OP_LEASE_KEEPALIVE = 7;
const OP_LEASE_REVOKE = 8;
const OP_LEASE_EXPIRE = 9;
const OP_TOPIC_PUBLISH = 10;
const OP_TOPIC_FETCH = 11;
const OP_TOPIC_ACK = 12;
const OP_TOPIC_NACK = 13;
/** Fields of each op's command proper, by op code; one more is the fingerprint. */
const WIDTH: Record<number, number> = {
  [OP_PUT]: 5,
  [OP_DELETE]: 4,
  [OP_CAS]: 6,
  [OP_TXN]: 6,
  [OP_COMPACT]: 4,
  [OP_PUT_LEASE]: 6,
  [OP_LEASE_GRANT]: 4,
  [OP_LEASE_KEEPALIVE]: 4,
  [OP_LEASE_REVOKE]: 4,
  [OP_LEASE_EXPIRE]: 6,
  [OP_TOPIC_PUBLISH]: 8,
  [OP_TOPIC_FETCH]: 9,
  [OP_TOPIC_ACK]: 6,
  [OP_TOPIC_NACK]: 8,
};

/** Headers as a flat [name, value, ...] array in name order (a map's order would be the sender's); nil for none. */
function flatHeaders(h: Record<string, string> | null): string[] | null {
  if (h === null) return null;
  return Object.keys(h)
    .sort()
    .flatMap((k) => [k, h[k]]);
}

function headersOf(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v) || v.length % 2 !== 0) throw new KvValidationError('cmd.headers', 'must be a flat array of name, value pairs');
  const h: Record<string, unknown> = {};
  for (let i = 0; i < v.length; i += 2) {
    if (typeof v[i] !== 'string' || Object.prototype.hasOwnProperty.call(h, v[i])) throw new KvValidationError('cmd.headers', 'names must be distinct strings');
    h[v[i] as string] = v[i + 1];
  }
  return h;
}

/** Validates first: a malformed command must never reach the log, where every replica would trip on it. */
export function encodeRequest(req: KvRequest): Uint8Array {
  const { id, ts, cmd, fingerprint } = validateRequest(req);
  const fp = fingerprint === undefined ? [] : [fingerprint];
  switch (cmd.op) {
    case 'put':
      if (cmd.lease !== undefined) return packr.pack([id, ts, OP_PUT_LEASE, cmd.key, cmd.value, cmd.lease, ...fp]);
      return packr.pack([id, ts, OP_PUT, cmd.key, cmd.value, ...fp]);
    case 'delete':
      return packr.pack([id, ts, OP_DELETE, cmd.key, ...fp]);
    case 'cas':
      return packr.pack([id, ts, OP_CAS, cmd.key, cmd.expected, cmd.value, ...fp]);
    case 'txn':
      return packr.pack([id, ts, OP_TXN, cmd.compare, cmd.success, cmd.failure, ...fp]);
    case 'compact':
      return packr.pack([id, ts, OP_COMPACT, cmd.revision, ...fp]);
    case 'lease-grant':
      return packr.pack([id, ts, OP_LEASE_GRANT, cmd.ttlSeconds, ...fp]);
    case 'lease-keepalive':
      return packr.pack([id, ts, OP_LEASE_KEEPALIVE, cmd.id, ...fp]);
    case 'lease-revoke':
      return packr.pack([id, ts, OP_LEASE_REVOKE, cmd.id, ...fp]);
    case 'lease-expire':
      return packr.pack([id, ts, OP_LEASE_EXPIRE, cmd.id, cmd.renewedAt, cmd.voter, ...fp]);
    case 'topic-publish':
      return packr.pack([id, ts, OP_TOPIC_PUBLISH, cmd.topic, cmd.key, cmd.value, flatHeaders(cmd.headers), cmd.now, ...fp]);
    case 'topic-fetch':
      return packr.pack([id, ts, OP_TOPIC_FETCH, cmd.topic, cmd.group, cmd.consumer, cmd.max, cmd.visibilityMs, cmd.now, ...fp]);
    case 'topic-ack':
      return packr.pack([id, ts, OP_TOPIC_ACK, cmd.topic, cmd.group, cmd.ids, ...fp]);
    case 'topic-nack':
      return packr.pack([id, ts, OP_TOPIC_NACK, cmd.topic, cmd.group, cmd.ids, cmd.delayMs, cmd.now, ...fp]);
  }
}

export function decodeRequest(data: Uint8Array): KvRequest {
  if (!(data instanceof Uint8Array)) throw new Error('malformed KvRequest: expected a Uint8Array');
  let t: unknown;
  try {
    t = packr.unpack(data);
  } catch (e) {
    throw new Error(`malformed KvRequest: not MessagePack (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(t) || t.length < 4) throw new Error('malformed KvRequest: expected an array of at least 4 fields');
  const [id, ts, op, key] = t as unknown[];
  const width = typeof op === 'number' ? (WIDTH[op] ?? -1) : -1;
  if (width < 0 || (t.length !== width && t.length !== width + 1)) {
    throw new KvValidationError('cmd.op', `unknown op code ${String(op)} with ${t.length} fields`);
  }
  let cmd: unknown;
  if (op === OP_PUT) cmd = { op: 'put', key, value: t[4] };
  else if (op === OP_DELETE) cmd = { op: 'delete', key };
  else if (op === OP_CAS) cmd = { op: 'cas', key, expected: t[4], value: t[5] };
  else if (op === OP_TXN) cmd = { op: 'txn', compare: t[3], success: t[4], failure: t[5] };
  else if (op === OP_COMPACT) cmd = { op: 'compact', revision: t[3] };
  else if (op === OP_PUT_LEASE) cmd = { op: 'put', key, value: t[4], lease: t[5] };
  else if (op === OP_LEASE_GRANT) cmd = { op: 'lease-grant', ttlSeconds: t[3] };
  else if (op === OP_LEASE_KEEPALIVE) cmd = { op: 'lease-keepalive', id: t[3] };
  else if (op === OP_LEASE_REVOKE) cmd = { op: 'lease-revoke', id: t[3] };
  else if (op === OP_LEASE_EXPIRE) cmd = { op: 'lease-expire', id: t[3], renewedAt: t[4], voter: t[5] };
  else if (op === OP_TOPIC_PUBLISH) cmd = { op: 'topic-publish', topic: t[3], key: t[4], value: t[5], headers: headersOf(t[6]), now: t[7] };
  else if (op === OP_TOPIC_FETCH) cmd = { op: 'topic-fetch', topic: t[3], group: t[4], consumer: t[5], max: t[6], visibilityMs: t[7], now: t[8] };
  else if (op === OP_TOPIC_ACK) cmd = { op: 'topic-ack', topic: t[3], group: t[4], ids: t[5] };
  else cmd = { op: 'topic-nack', topic: t[3], group: t[4], ids: t[5], delayMs: t[6], now: t[7] };
  // A fingerprint element is never nil (encodeRequest leaves it out instead).
  if (t.length === width + 1 && (t[width] === null || t[width] === undefined)) throw new KvValidationError('fingerprint', 'must be a string, got nil');
  return validateRequest({ id, ts, cmd, fingerprint: t.length === width + 1 ? t[width] : undefined });
}
