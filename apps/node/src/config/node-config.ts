/**
 * The replica's configuration: its schema lives in libs/config with the gateway's and the launcher's,
 * built from the same pieces. These names stay for the replica's code.
 */
export { ConfigError, loadNodeConfig, type NodeConfig } from '@app/config';
