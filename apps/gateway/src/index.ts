export { createGatewayApp, type GatewayAppOptions } from './app';
export { loadConfig, ConfigError, type GatewayConfig } from './config/config';
export type { ConsensusClient, ConsensusClientStats } from './consensus/consensus-client';
export { ConsensusTimeoutError, ConsensusUnavailableError } from './consensus/errors';
