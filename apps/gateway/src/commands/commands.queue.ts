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
