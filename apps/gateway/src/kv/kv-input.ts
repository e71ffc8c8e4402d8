import { KvValidationError, validateRequest, type KvCommand, type KvRequest } from '@app/consensus/kv';
import type { Consistency, ReadQuery } from '@app/wire';
import { ApiError } from '../http/api-error';

export interface KvLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

export const MAX_IDEMPOTENCY_KEY = 200;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Field names in errors: `value` for REST, `commands[3].value` for a batch. */
const at = (prefix: string, field: string): string => (prefix ? `${prefix}.${field}` : field);

function requireBody(body: unknown, prefix: string): Record<string, unknown> {
  if (isRecord(body)) return body;
  if (body === undefined) throw ApiError.badField(prefix || 'body', `${prefix || 'body'} is required: a JSON object`);
  throw ApiError.badField(prefix || 'body', `${prefix || 'body'} must be a JSON object, got ${typeName(body)}`);
}

function key(v: unknown, field: string, limits: KvLimits): string {
  if (typeof v !== 'string') throw ApiError.badField(field, v === undefined ? `${field} is required` : `${field} must be a string, got ${typeName(v)}`);
  if (v.length === 0) throw ApiError.badField(field, `${field} must not be empty`);
  if (Buffer.byteLength(v, 'utf8') > limits.maxKeyBytes) throw ApiError.tooLarge(field, limits.maxKeyBytes);
  return v;
}

function value(v: unknown, field: string, limits: KvLimits, nullable = false): string | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'string') {
    const expected = nullable ? 'a string or null' : 'a string';
    throw ApiError.badField(field, v === undefined ? `${field} is required (${expected})` : `${field} must be ${expected}, got ${typeName(v)}`);
  }
  if (Buffer.byteLength(v, 'utf8') > limits.maxValueBytes) throw ApiError.tooLarge(field, limits.maxValueBytes);
  return v;
}

/** A key from the URL path (Express has already percent-decoded it). */
export function parseKey(raw: unknown, limits: KvLimits): string {
  return key(raw, 'key', limits);
}

export function parsePut(rawKey: unknown, body: unknown, limits: KvLimits): KvCommand {
  const b = requireBody(body, '');
  return { op: 'put', key: parseKey(rawKey, limits), value: value(b.value, 'value', limits) as string };
}

export function parseDelete(rawKey: unknown, limits: KvLimits): KvCommand {
  return { op: 'delete', key: parseKey(rawKey, limits) };
}

export function parseCas(rawKey: unknown, body: unknown, limits: KvLimits): KvCommand {
  const b = requireBody(body, '');
  const k = parseKey(rawKey, limits);
  // `expected` must be given: null is meaningful ("must be absent"), so absence is not null.
  if (!('expected' in b)) throw ApiError.badField('expected', 'expected is required (a string, or null for "key must be absent")');
  const expected = value(b.expected, 'expected', limits, true);
  return { op: 'cas', key: k, expected, value: value(b.value, 'value', limits) as string };
}

/** One command of a batch (`commands[i]`), with the same rules as the REST calls. */
export function parseCommand(c: unknown, prefix: string, limits: KvLimits): KvCommand {
  const b = requireBody(c, prefix);
  const op = b.op;
  const k = key(b.key, at(prefix, 'key'), limits);
  switch (op) {
    case 'put':
      return { op, key: k, value: value(b.value, at(prefix, 'value'), limits) as string };
    case 'delete':
      return { op, key: k };
    case 'cas': {
      if (!('expected' in b)) throw ApiError.badField(at(prefix, 'expected'), `${at(prefix, 'expected')} is required (a string or null)`);
      const expected = value(b.expected, at(prefix, 'expected'), limits, true);
      return { op, key: k, expected, value: value(b.value, at(prefix, 'value'), limits) as string };
    }
    default:
      throw ApiError.badField(at(prefix, 'op'), `${at(prefix, 'op')} must be "put", "delete" or "cas", got ${JSON.stringify(op) ?? 'nothing'}`);
  }
}

/** The request id from an Idempotency-Key header, or undefined when none was sent. */
export function parseIdempotencyKey(header: unknown): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || header.length === 0) throw ApiError.badField('Idempotency-Key', 'Idempotency-Key must be a non-empty string');
  if (header.length > MAX_IDEMPOTENCY_KEY) throw ApiError.badField('Idempotency-Key', `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY} characters`);
  return header;
}

/** The final structural check of the state machine itself; its field names mapped back to ours. */
export function toRequest(id: string, ts: number, cmd: KvCommand, prefix = ''): KvRequest {
  try {
    return validateRequest({ id, ts, cmd });
  } catch (err) {
    if (!(err instanceof KvValidationError)) throw err;
    const field = err.field.startsWith('cmd.') ? at(prefix, err.field.slice(4)) : err.field === 'id' ? 'Idempotency-Key' : err.field;
    throw ApiError.badField(field, `${field}: ${err.message.replace(/^invalid KvRequest: \S+ /, '')}`);
  }
}

export function parseConsistency(raw: unknown): Consistency {
  if (raw === undefined || raw === '') return 'linearizable';
  if (raw === 'linearizable' || raw === 'stale') return raw;
  throw ApiError.badField('consistency', `consistency must be "linearizable" or "stale", got ${JSON.stringify(raw)}`);
}

export function parseListQuery(prefixRaw: unknown, limitRaw: unknown, limits: KvLimits): Extract<ReadQuery, { op: 'list' }> {
  let prefix = '';
  if (prefixRaw !== undefined) {
    if (typeof prefixRaw !== 'string') throw ApiError.badField('prefix', 'prefix must be given once, as a string');
    if (Buffer.byteLength(prefixRaw, 'utf8') > limits.maxKeyBytes) throw ApiError.tooLarge('prefix', limits.maxKeyBytes);
    prefix = prefixRaw;
  }
  let limit = DEFAULT_LIST_LIMIT;
  if (limitRaw !== undefined && limitRaw !== '') {
    const n = typeof limitRaw === 'string' && /^\d{1,7}$/.test(limitRaw) ? Number(limitRaw) : NaN;
    if (!(n >= 1 && n <= MAX_LIST_LIMIT)) throw ApiError.badField('limit', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(limitRaw)}`);
    limit = n;
  }
  return { op: 'list', prefix, limit };
}
