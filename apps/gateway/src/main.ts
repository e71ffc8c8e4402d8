import { Logger } from '@nestjs/common';
import { createGatewayApp } from './app';
import { ConfigError, loadConfig, redact } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`gateway: ${err.message}\n`);
    process.exit(2);
  }
  const app = await createGatewayApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port);
  new Logger('Gateway').log(
    `listening on :${config.port} - cluster ${config.cluster} (${config.protocol}, nodes ${config.nodes.join(',')}), bus ${redact(config.busUrl)}; docs at /docs`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
