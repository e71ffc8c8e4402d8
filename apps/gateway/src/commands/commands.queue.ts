import type { KvCommand, KvResult } from '@app/consensus/kv';
import type { GatewayConfig } from '../config/config';

export const COMMANDS_QUEUE = 'commands';

export interface CommandsJobData {
  commands: KvCommand[];
  /**
   * The submitting request's fingerprint (http/fingerprint.ts): a later submission with the same
   * Idempotency-Key is the same job only with the same one. Every command carries it into the
   * state machine too. Absent in jobs queued before it existed.
   */
  fingerprint?: string;
}

export interface CommandsJobResult {
  results: KvResult[];
}

/** Keys under the cluster's name, beside (not among) the bus channels. */
export function queuePrefix(config: GatewayConfig): string {
  return `synod:${config.cluster}:bull`;
}

/**
 * Waits (1 s at most) for a BullMQ queue's or worker's connections to be up before closing it:
 * BullMQ reports a connection's failed start as an 'error' after close() has removed every listener
 * of it, which ends the process with an unhandled error when a gateway stops right after it started.
 */
export async function settledBeforeClose(bull: { waitUntilReady(): Promise<unknown> }, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([bull.waitUntilReady().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
