import type { KeyCommand } from '@app/consensus/kv';
import { ApiError } from '../http/api-error';

export interface KvLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

/**
 * The byte limits (MAX_KEY_BYTES, MAX_VALUE_BYTES). Kept by hand beside the zod schemas because
 * they are configuration: nestjs-zod's pipe checks one static schema per DTO and cannot see this
 * gateway's settings. Run right after the schema; over a limit is a 413 naming the field.
 */
export function checkBytes(text: string, field: string, limitBytes: number): void {
  if (Buffer.byteLength(text, 'utf8') > limitBytes) throw ApiError.tooLarge(field, limitBytes);
}

/** Field names as in the 400s: `value` for REST, `commands[3].value` for a batch (prefix `commands[3]`). */
export function checkCommandBytes<C extends KeyCommand>(cmd: C, limits: KvLimits, prefix = ''): C {
  const at = (field: string): string => (prefix ? `${prefix}.${field}` : field);
  checkBytes(cmd.key, at('key'), limits.maxKeyBytes);
  if (cmd.op === 'cas' && cmd.expected !== null) checkBytes(cmd.expected, at('expected'), limits.maxValueBytes);
  if (cmd.op !== 'delete') checkBytes(cmd.value, at('value'), limits.maxValueBytes);
  return cmd;
}
