import { createHash } from 'node:crypto';

/**
 * The BullMQ job id for an Idempotency-Key: the key itself when BullMQ accepts it (not an integer,
 * no ':'), else a digest of it, so that a retried submission always lands on the same job.
 */
export function jobIdFor(idempotencyKey: string): string {
  const usable = !idempotencyKey.includes(':') && `${parseInt(idempotencyKey, 10)}` !== idempotencyKey;
  return usable ? idempotencyKey : `idem-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/**
 * The request id of command `index` of a job: the same on every attempt, so a retry applies
 * nothing twice. A job is one client session (kv/sessions.ts) and its commands are seqs 1, 2, …
 */
export function commandRequestId(jobId: string, index: number): string {
  return `job:${jobId}/${index + 1}`;
}
