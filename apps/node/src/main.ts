import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NodeAppModule } from './app.module';
import { ConfigError, loadNodeConfig, NodeConfig } from './config/node-config';
import { createControlServer } from './control/control-server';
import { ReplicaService } from './replica/replica.service';

/** A replica as a hybrid Nest app: HTTP for health and metrics, a Redis microservice for control. */
async function bootstrap(): Promise<void> {
  let cfg: NodeConfig;
  try {
    cfg = loadNodeConfig();
  } catch (err) {
    process.stderr.write(`synod node: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  const app = await NestFactory.create(NodeAppModule.forRoot(cfg), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  const replica = app.get(ReplicaService);
  app.connectMicroservice({ strategy: createControlServer(cfg, replica) });
  await replica.boot();
  await app.startAllMicroservices();
  await app.listen(cfg.httpPort, '127.0.0.1');
  const url = await app.getUrl();
  replica.log(`replica ${cfg.nodeId} (${cfg.protocol}) up; health at ${url}/health`);
}

bootstrap().catch((err) => {
  process.stderr.write(`synod node: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
