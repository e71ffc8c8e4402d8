/**
 * The gateway's configuration: its schema lives in libs/config with the replica's and the launcher's,
 * built from the same pieces. These names stay for the gateway's code.
 */
export { ConfigError, loadGatewayConfig as loadConfig, redact, type GatewayConfig } from '@app/config';
