import { packr } from './msgpack';
import type { KvRequest } from './types';
import { KvValidationError, validateRequest } from './validate';

/**
 * Wire form of a request, a MessagePack array (field names would double the size of small commands):
 *   put    [id, ts, 0, key, value]
 *   delete [id, ts, 1, key]
 *   cas    [id, ts, 2, key, expected | nil, value]
 */
const OP_PUT = 0;
const OP_DELETE = 1;
const OP_CAS = 2;

/** Validates first: a malformed command must never reach the log, where every replica would trip on it. */
export function encodeRequest(req: KvRequest): Uint8Array {
  const { id, ts, cmd } = validateRequest(req);
  switch (cmd.op) {
    case 'put':
      return packr.pack([id, ts, OP_PUT, cmd.key, cmd.value]);
    case 'delete':
      return packr.pack([id, ts, OP_DELETE, cmd.key]);
    case 'cas':
      return packr.pack([id, ts, OP_CAS, cmd.key, cmd.expected, cmd.value]);
  }
}

export function decodeRequest(data: Uint8Array): KvRequest {
  if (!(data instanceof Uint8Array)) throw new Error('malformed KvRequest: expected a Uint8Array');
  let t: unknown;
  try {
    t = packr.unpack(data);
  } catch (e) {
    throw new Error(`malformed KvRequest: not MessagePack (${(e as Error).message})`);
  }
  if (!Array.isArray(t) || t.length < 4) throw new Error('malformed KvRequest: expected an array of at least 4 fields');
  const [id, ts, op, key] = t as unknown[];
  let cmd: unknown;
  if (op === OP_PUT && t.length === 5) cmd = { op: 'put', key, value: t[4] };
  else if (op === OP_DELETE && t.length === 4) cmd = { op: 'delete', key };
  else if (op === OP_CAS && t.length === 6) cmd = { op: 'cas', key, expected: t[4], value: t[5] };
  else throw new KvValidationError('cmd.op', `unknown op code ${String(op)} with ${t.length} fields`);
  return validateRequest({ id, ts, cmd });
}
