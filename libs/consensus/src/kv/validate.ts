import { MAX_FINGERPRINT_LENGTH, type KvCommand, type KvRequest } from './types';

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
    case 'put':
      return { op, key: str(c.key, 'cmd.key', false), value: str(c.value, 'cmd.value', true) };
    case 'delete':
      return { op, key: str(c.key, 'cmd.key', false) };
    case 'cas': {
      const key = str(c.key, 'cmd.key', false);
      const expected = c.expected === null ? null : str(c.expected, 'cmd.expected', true);
      return { op, key, expected, value: str(c.value, 'cmd.value', true) };
    }
    default:
      throw new KvValidationError('cmd.op', `must be 'put', 'delete' or 'cas', got ${JSON.stringify(op) ?? 'undefined'}`);
  }
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
