import { MAX_FINGERPRINT_LENGTH, type TopicCommand, type KvCommand, type KvRequest, type TxnCommand, type TxnCompare, type TxnOp } from './types';

/**
 * Most compares, and ops per branch, a transaction may hold in the log. The gateway's own limit
 * (MAX_TXN_OPS, default 128) is lower; this one bounds what any proposer can make replicas do.
 */
export const MAX_TXN_OPS_HARD = 10_000;
/** Most keys one range (in a transaction or a list) returns. */
export const MAX_RANGE_LIMIT = 10_000;
/** A year: a longer lease is a key without one. */
export const MAX_LEASE_TTL_SECONDS = 365 * 24 * 3600;

/** A topic or group name: what a URL path segment and a message id (`<topic>/<offset>`) can carry unescaped. */
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;
/** Dead letter topics (`<topic>.dlq`, `<topic>.dlq.dlq`, ...) may run this long past TOPIC_NAME's 200. */
export const MAX_TOPIC_NAME_LENGTH = 256;
export const MAX_CONSUMER_LENGTH = 200;
/** A message key's hard bound (UTF-16 units); the gateway applies its MAX_KEY_BYTES below it. */
export const MAX_MESSAGE_KEY_LENGTH = 64 * 1024;
export const MAX_HEADERS = 32;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;
export const MAX_TOPIC_FETCH = 1000;
export const MIN_VISIBILITY_MS = 100;
export const MAX_VISIBILITY_MS = 3_600_000;
export const MAX_NACK_DELAY_MS = 3_600_000;
export const MAX_TOPIC_IDS = 1000;

const TXN_TARGETS = ['value', 'version', 'createRevision', 'modRevision'];
const TXN_COMPARE_OPS = ['=', '!=', '<', '>'];

/** A structurally invalid request; `field` names the offending field (e.g. `cmd.key`) for a 400 answer. */
export class KvValidationError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`invalid KvRequest: ${field} ${reason}`);
    this.name = 'KvValidationError';
  }
}

// A lone surrogate does not survive UTF-8 encoding, so the value a replica decodes from the log
// would differ from the one the client sent; refuse it at the door instead.
const LONE_SURROGATE = /\p{Cs}/u;

function str(v: unknown, field: string, allowEmpty: boolean): string {
  if (typeof v !== 'string') throw new KvValidationError(field, `must be a string, got ${describe(v)}`);
  if (!allowEmpty && v.length === 0) throw new KvValidationError(field, 'must not be empty');
  if (LONE_SURROGATE.test(v)) throw new KvValidationError(field, 'must be well-formed UTF-16 (lone surrogate)');
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateCommand(c: unknown): KvCommand {
  if (!isRecord(c)) throw new KvValidationError('cmd', `must be an object, got ${describe(c)}`);
  const op = c.op;
  switch (op) {
    case 'put': {
      const put = { op, key: str(c.key, 'cmd.key', false), value: str(c.value, 'cmd.value', true) } as const;
      return c.lease === undefined || c.lease === null ? put : { ...put, lease: str(c.lease, 'cmd.lease', false) };
    }
    case 'delete':
      return { op, key: str(c.key, 'cmd.key', false) };
    case 'cas': {
      const key = str(c.key, 'cmd.key', false);
      const expected = c.expected === null ? null : str(c.expected, 'cmd.expected', true);
      return { op, key, expected, value: str(c.value, 'cmd.value', true) };
    }
    case 'txn':
      return validateTxn(c);
    case 'compact':
      return { op, revision: revisionOf(c.revision, 'cmd.revision') };
    case 'lease-grant': {
      const ttl = c.ttlSeconds;
      if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL_SECONDS) {
        throw new KvValidationError('cmd.ttlSeconds', `must be an integer from 1 to ${MAX_LEASE_TTL_SECONDS}, got ${describe(ttl)} ${String(ttl)}`);
      }
      return { op, ttlSeconds: ttl };
    }
    case 'lease-keepalive':
    case 'lease-revoke':
      return { op, id: str(c.id, 'cmd.id', false) };
    case 'lease-expire':
      return { op, id: str(c.id, 'cmd.id', false), renewedAt: revisionOf(c.renewedAt, 'cmd.renewedAt'), voter: str(c.voter, 'cmd.voter', false) };
    case 'topic-publish':
    case 'topic-fetch':
    case 'topic-ack':
    case 'topic-nack':
      return validateTopicCommand(c);
    default:
      throw new KvValidationError(
        'cmd.op',
        `must be 'put', 'delete', 'cas', 'txn', 'compact', a lease op or a topic op, got ${JSON.stringify(op) ?? 'undefined'}`,
      );
  }
}

/** A topic name: TOPIC_NAME, or a dead letter topic of one (consumers read those like any other). */
export function isTopicName(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > MAX_TOPIC_NAME_LENGTH) return false;
  let name = v;
  while (name.length > 200 && name.endsWith('.dlq')) name = name.slice(0, -4);
  return TOPIC_NAME.test(name);
}

function topicName(v: unknown, field: string): string {
  if (!isTopicName(v))
    throw new KvValidationError(
      field,
      `must match ${TOPIC_NAME.source} (a dead letter topic may add .dlq), got ${describe(v)} ${JSON.stringify(v)?.slice(0, 80)}`,
    );
  return v;
}

function groupName(v: unknown): string {
  if (typeof v !== 'string' || !TOPIC_NAME.test(v)) throw new KvValidationError('cmd.group', `must match ${TOPIC_NAME.source}`);
  return v;
}

function intIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new KvValidationError(field, `must be an integer from ${min} to ${max}, got ${describe(v)} ${String(v)}`);
  return v;
}

function bounded(v: unknown, field: string, max: number, allowEmpty: boolean): string {
  const s = str(v, field, allowEmpty);
  if (s.length > max) throw new KvValidationError(field, `must be at most ${max} characters, got ${s.length}`);
  return s;
}

/** Headers: at most MAX_HEADERS short strings, kept in name order (the same headers, the same bytes); null for none. */
function headersOf(v: unknown): Record<string, string> | null {
  if (v === null || v === undefined) return null;
  if (!isRecord(v)) throw new KvValidationError('cmd.headers', `must be an object or null, got ${describe(v)}`);
  const names = Object.keys(v).sort();
  if (names.length > MAX_HEADERS) throw new KvValidationError('cmd.headers', `must hold at most ${MAX_HEADERS} entries, got ${names.length}`);
  const out: Record<string, string> = {};
  for (const name of names) {
    bounded(name, 'cmd.headers', MAX_HEADER_NAME_LENGTH, false);
    // Assigning it would set the object's prototype, not a header.
    if (name === '__proto__') throw new KvValidationError('cmd.headers', 'must not name a header __proto__');
    out[name] = bounded(v[name], `cmd.headers.${name}`, MAX_HEADER_VALUE_LENGTH, true);
  }
  return out;
}

function messageIds(v: unknown): string[] {
  if (!Array.isArray(v)) throw new KvValidationError('cmd.ids', `must be an array, got ${describe(v)}`);
  if (v.length > MAX_TOPIC_IDS) throw new KvValidationError('cmd.ids', `must hold at most ${MAX_TOPIC_IDS} ids, got ${v.length}`);
  // An id is `<topic>/<offset>`; anything longer cannot name a message.
  return v.map((id, i) => bounded(id, `cmd.ids[${i}]`, MAX_TOPIC_NAME_LENGTH + 17, false));
}

function validateTopicCommand(c: Record<string, unknown>): TopicCommand {
  const topic = topicName(c.topic, 'cmd.topic');
  const now = (): number => revisionOf(c.now, 'cmd.now');
  switch (c.op) {
    case 'topic-publish': {
      const key = c.key === null || c.key === undefined ? null : bounded(c.key, 'cmd.key', MAX_MESSAGE_KEY_LENGTH, false);
      return { op: 'topic-publish', topic, key, value: str(c.value, 'cmd.value', true), headers: headersOf(c.headers), now: now() };
    }
    case 'topic-fetch':
      return {
        op: 'topic-fetch',
        topic,
        group: groupName(c.group),
        consumer: bounded(c.consumer, 'cmd.consumer', MAX_CONSUMER_LENGTH, false),
        max: intIn(c.max, 'cmd.max', 1, MAX_TOPIC_FETCH),
        visibilityMs: intIn(c.visibilityMs, 'cmd.visibilityMs', MIN_VISIBILITY_MS, MAX_VISIBILITY_MS),
        now: now(),
      };
    case 'topic-ack':
      return { op: 'topic-ack', topic, group: groupName(c.group), ids: messageIds(c.ids) };
    default:
      return {
        op: 'topic-nack',
        topic,
        group: groupName(c.group),
        ids: messageIds(c.ids),
        delayMs: intIn(c.delayMs, 'cmd.delayMs', 0, MAX_NACK_DELAY_MS),
        now: now(),
      };
  }
}

function revisionOf(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new KvValidationError(field, `must be an integer >= 0, got ${describe(v)} ${String(v)}`);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KvValidationError(field, `must be an array, got ${describe(v)}`);
  if (v.length > MAX_TXN_OPS_HARD) throw new KvValidationError(field, `must hold at most ${MAX_TXN_OPS_HARD} entries, got ${v.length}`);
  return v;
}

function validateTxn(c: Record<string, unknown>): TxnCommand {
  const compare = list(c.compare, 'cmd.compare').map((x, i) => validateCompare(x, `cmd.compare[${i}]`));
  return { op: 'txn', compare, success: branch(c.success, 'cmd.success'), failure: branch(c.failure, 'cmd.failure') };
}

function validateCompare(x: unknown, at: string): TxnCompare {
  if (!isRecord(x)) throw new KvValidationError(at, `must be an object, got ${describe(x)}`);
  const key = str(x.key, `${at}.key`, false);
  const target = x.target;
  if (typeof target !== 'string' || !TXN_TARGETS.includes(target)) throw new KvValidationError(`${at}.target`, `must be one of ${TXN_TARGETS.join(', ')}`);
  const op = x.op;
  if (typeof op !== 'string' || !TXN_COMPARE_OPS.includes(op)) throw new KvValidationError(`${at}.op`, `must be one of ${TXN_COMPARE_OPS.join(' ')}`);
  const value = target === 'value' ? (x.value === null ? null : str(x.value, `${at}.value`, true)) : revisionOf(x.value, `${at}.value`);
  return { key, target: target as TxnCompare['target'], op: op as TxnCompare['op'], value };
}

/** A branch writes each key at most once: one revision holds one change per key (etcd refuses the same). */
function branch(v: unknown, field: string): TxnOp[] {
  const written = new Set<string>();
  return list(v, field).map((x, i): TxnOp => {
    const at = `${field}[${i}]`;
    if (!isRecord(x)) throw new KvValidationError(at, `must be an object, got ${describe(x)}`);
    switch (x.op) {
      case 'put':
      case 'delete': {
        const key = str(x.key, `${at}.key`, false);
        if (written.has(key)) throw new KvValidationError(`${at}.key`, `writes ${JSON.stringify(key)} a second time in one branch`);
        written.add(key);
        if (x.op === 'delete') return { op: 'delete', key };
        const value = str(x.value, `${at}.value`, true);
        return x.lease === undefined || x.lease === null ? { op: 'put', key, value } : { op: 'put', key, value, lease: str(x.lease, `${at}.lease`, false) };
      }
      case 'get':
        return { op: 'get', key: str(x.key, `${at}.key`, false) };
      case 'range': {
        const limit = x.limit === undefined || x.limit === null ? 100 : x.limit;
        if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RANGE_LIMIT) {
          throw new KvValidationError(`${at}.limit`, `must be an integer from 1 to ${MAX_RANGE_LIMIT}`);
        }
        return { op: 'range', prefix: str(x.prefix ?? '', `${at}.prefix`, true), limit };
      }
      default:
        throw new KvValidationError(`${at}.op`, `must be 'put', 'delete', 'get' or 'range', got ${JSON.stringify(x.op) ?? 'undefined'}`);
    }
  });
}

/**
 * Structural check of an untrusted value (REST body, decoded log entry). Returns a fresh object
 * holding only the known fields, so stray properties never reach the log.
 */
export function validateRequest(x: unknown): KvRequest {
  if (!isRecord(x)) throw new KvValidationError('request', `must be an object, got ${describe(x)}`);
  const id = str(x.id, 'id', false);
  const ts = x.ts;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) {
    throw new KvValidationError('ts', `must be a finite number >= 0, got ${describe(ts)} ${String(ts)}`);
  }
  const cmd = validateCommand(x.cmd);
  // null counts as absent: a codec may turn a missing member into nil.
  if (x.fingerprint === undefined || x.fingerprint === null) return { id, ts, cmd };
  const fingerprint = str(x.fingerprint, 'fingerprint', false);
  if (fingerprint.length > MAX_FINGERPRINT_LENGTH) {
    throw new KvValidationError('fingerprint', `must be at most ${MAX_FINGERPRINT_LENGTH} characters, got ${fingerprint.length}`);
  }
  return { id, ts, cmd, fingerprint };
}
