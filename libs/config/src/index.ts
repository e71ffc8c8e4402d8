/** One configuration source for the launcher, the replica and the gateway, and one Redis URL parser. */
export { ConfigError, parseEnv, problemsOf } from './config-error';
export { redact } from './redact';
export { redisOptions, RedisUrlError, type ParsedRedisUrl, type RedisUrlOptions } from './redis-url';
export { parseSize } from './size';
export * as pieces from './pieces';
export { ID, check } from './pieces';
export { busRoutes, busShape, checkCluster, clusterNodes, clusterShape } from './cluster';
export { loadNodeConfig, nodeEnvSchema, type NodeConfig } from './node';
export { gatewayEnvSchema, isLoopback, loadGatewayConfig, type GatewayConfig } from './gateway';
export { launcherEnvSchema, loadLauncherEnv, type LauncherEnv } from './launcher';
