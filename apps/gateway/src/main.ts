import { Logger } from '@nestjs/common';
import { logLevel, LogLevelError } from '@app/logging';
import { KeyFileError } from '@app/wire';
import { createGatewayApp } from './app';
import { ConfigError, loadConfig, redact, type GatewayConfig } from './config/config';
import { exitWithPrimary, isPoolPrimary, runWorkerPool } from './workers';

async function main(): Promise<void> {
  let config: GatewayConfig;
  let level;
  try {
    config = loadConfig(process.env);
    level = logLevel(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof LogLevelError)) throw err;
    // Before any logger exists, and meant for a person: plain text.
    process.stderr.write(`gateway: ${err.message}\n`);
    process.exit(2);
  }
  if (isPoolPrimary(config.workers)) {
    const logger = new Logger('Gateway');
    logger.log(`starting ${config.workers} gateway workers on ${config.host}:${config.port}`);
    return runWorkerPool(config.workers, (line) => logger.warn(line));
  }
  exitWithPrimary();
  const app = await createGatewayApp(config, { logLevel: level });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const buses = [...new Set(Object.values(config.busRoutes))].map(redact).join(', ');
  new Logger('Gateway').log(
    `listening on ${config.host}:${config.port} - cluster ${config.cluster} (${config.protocol}, nodes ${config.nodes.join(',')}), bus ${buses}; docs at /docs, metrics at /metrics`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  // A missing or bad key file is a configuration the gateway refuses: exit 2, never restarted.
  process.exit(err instanceof KeyFileError ? 2 : 1);
});
