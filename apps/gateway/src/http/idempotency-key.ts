import { z } from 'zod';
import { parseOrBadField } from './validation';

export const MAX_IDEMPOTENCY_KEY = 200;

const IdempotencyKeySchema = z
  .string({ error: 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })
  .max(MAX_IDEMPOTENCY_KEY, { error: `must be at most ${MAX_IDEMPOTENCY_KEY} characters` })
  .optional();

/** The request id from an Idempotency-Key header, or undefined when none was sent. */
export function parseIdempotencyKey(header: unknown): string | undefined {
  return parseOrBadField(IdempotencyKeySchema, header, 'Idempotency-Key');
}
