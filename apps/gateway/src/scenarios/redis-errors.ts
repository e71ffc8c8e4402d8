import { isNotConnectionError } from 'bullmq';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';

/** Socket errors of a Redis that is down, restarting or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** ioredis's own words for a connection it does not have (no offline queue: commands fail at once). */
const IOREDIS_MESSAGES = ["Stream isn't writeable and enableOfflineQueue options is false", 'Connection is closed', 'Command timed out', 'connect ETIMEDOUT'];

/** Replies of a Redis that is up but cannot serve yet (replaying its AOF after a restart). */
const NOT_READY_REPLY = /^(LOADING|MASTERDOWN|TRYAGAIN)\b/;

/**
 * Whether `err` says that Redis cannot be reached (a 503 with Retry-After), rather than a bug or a
 * refusal of the command itself, which must surface as they are.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // BullMQ's test: its ConnectionClosedError, a closed ioredis connection, ECONNREFUSED.
  if (!isNotConnectionError(err)) return true;
  if (err instanceof MaxRetriesPerRequestError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return IOREDIS_MESSAGES.some((m) => err.message.includes(m)) || NOT_READY_REPLY.test(err.message);
}
