/** One configuration source for the launcher, the replica and the gateway, and one Redis URL parser. */
export { ConfigError } from './config-error';
export { redact } from './redact';
export { redisOptions } from './redis-url';
export { parseSize } from './size';
export * as pieces from './pieces';
export { check } from './pieces';
export { loadNodeConfig, type NodeConfig, type PbftTrustedConfiguration } from './node';
export { autoWorkers, isLoopback, loadGatewayConfig, type GatewayConfig } from './gateway';
export { loadLauncherEnv } from './launcher';
