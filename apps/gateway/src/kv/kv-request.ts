import { KvValidationError, validateRequest, type KvCommand, type KvRequest } from '@app/consensus/kv';
import { ApiError } from '../http/api-error';

/**
 * The state machine's own structural check, last before the log; its field names mapped back to
 * the REST ones. The zod schemas already refuse what it refuses, so this fires only on a gap
 * between the two, and then still as a 400 naming the field.
 */
export function toRequest(id: string, ts: number, cmd: KvCommand, fingerprint?: string): KvRequest {
  try {
    return validateRequest({ id, ts, cmd, fingerprint });
  } catch (err) {
    if (!(err instanceof KvValidationError)) throw err;
    const field = err.field.startsWith('cmd.') ? err.field.slice(4) : err.field === 'id' ? 'Idempotency-Key' : err.field;
    throw ApiError.badField(field, `${field}: ${err.message.replace(/^invalid KvRequest: \S+ /, '')}`);
  }
}
