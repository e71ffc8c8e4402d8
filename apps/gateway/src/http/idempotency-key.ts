import { z } from 'zod';
import { parseOrBadField } from './validation';

export const MAX_IDEMPOTENCY_KEY = 200;

const IdempotencyKeySchema = z
  .string({ error: 'must be a non-empty string' })
  .min(1, { error: 'must be a non-empty string' })
  .max(MAX_IDEMPOTENCY_KEY, { error: `must be at most ${MAX_IDEMPOTENCY_KEY} characters` })
  .optional();

/** The Idempotency-Key header's value, or undefined when none was sent. */
export function parseIdempotencyKey(header: unknown): string | undefined {
  return parseOrBadField(IdempotencyKeySchema, header, 'Idempotency-Key');
}

/**
 * Request ids in the state machine have a namespace per source, so that no Idempotency-Key can
 * name a request of a BullMQ batch (`job:<job id>:<index>`, commands/job-id.ts) or the reverse:
 * REST requests are `rest:<Idempotency-Key>` (a generated key when the client sent none).
 */
const REST_PREFIX = 'rest:';

export function restRequestId(idempotencyKey: string): string {
  return `${REST_PREFIX}${idempotencyKey}`;
}

/** The key a client retries with, for a request id it is shown (a 503/504's `requestId`). */
export function clientRequestId(requestId: string): string {
  return requestId.startsWith(REST_PREFIX) ? requestId.slice(REST_PREFIX.length) : requestId;
}
