import type { KvCommand, KvResult } from '@app/consensus/kv';
import type { GatewayConfig } from '../config/config';

export const COMMANDS_QUEUE = 'commands';

export interface CommandsJobData {
  commands: KvCommand[];
}

export interface CommandsJobResult {
  results: KvResult[];
}

/** Keys under the cluster's name, beside (not among) the bus channels. */
export function queuePrefix(config: GatewayConfig): string {
  return `synod:${config.cluster}:bull`;
}
