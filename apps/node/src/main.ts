import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { createLogger, logLevel, LogLevelError } from '@app/logging';
import { KeyFileError } from '@app/wire';
import { NodeAppModule } from './app.module';
import { ConfigError, loadNodeConfig, NodeConfig } from './config/node-config';
import { createControlServer } from './control/control-server';
import { ReplicaService } from './replica/replica.service';

let log: Logger | undefined;

/** A replica as a hybrid Nest app: HTTP for health and metrics, a Redis microservice for control. */
async function bootstrap(): Promise<void> {
  let cfg: NodeConfig;
  try {
    cfg = loadNodeConfig();
    // JSON lines, every one with the node id; LOG_LEVEL (default info).
    log = createLogger({ service: 'node', level: logLevel(), bindings: { node: cfg.nodeId, cluster: cfg.cluster } });
  } catch (err) {
    // Before any logger exists, and meant for a person: plain text.
    process.stderr.write(`synod node: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError || err instanceof LogLevelError ? 2 : 1);
  }
  // abortOnError: false — a provider that cannot start (a missing key file) rejects here with its message.
  const app = await NestFactory.create(NodeAppModule.forRoot(cfg, log), { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks();
  const replica = app.get(ReplicaService);
  app.connectMicroservice({ strategy: createControlServer(cfg, replica) });
  await replica.boot();
  await app.startAllMicroservices();
  await app.listen(cfg.httpPort, cfg.httpHost);
  const url = await app.getUrl();
  replica.log(`replica ${cfg.nodeId} (${cfg.protocol}) up; health at ${url}/health, metrics at ${url}/metrics`);
}

bootstrap().catch((err: Error) => {
  if (log) log.fatal({ err }, 'failed to start');
  else process.stderr.write(`synod node: ${err.stack ?? err}\n`);
  // A missing or bad key file is a configuration this replica refuses: exit 2, never restarted.
  process.exit(err instanceof KeyFileError ? 2 : 1);
});
