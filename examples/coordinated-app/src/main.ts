import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/**
 * An app that uses Synod for coordination: several instances elect one leader and all follow the
 * same live configuration. SYNOD_ENDPOINTS (comma-separated gateway URLs), PORT (0: any free),
 * INSTANCE, ELECTION, LEASE_SECONDS, CONFIG_PREFIX. Prints `EXAMPLE_READY {"port":N}` when up.
 */
async function main(): Promise<void> {
  const env = process.env;
  const endpoints = (env.SYNOD_ENDPOINTS ?? 'http://127.0.0.1:3000').split(',').filter(Boolean);
  const app = await NestFactory.create(
    AppModule.register(endpoints, {
      instance: env.INSTANCE ?? `app-${process.pid}`,
      election: env.ELECTION ?? 'example/leader',
      leaseSeconds: Number(env.LEASE_SECONDS ?? 5),
      configPrefix: env.CONFIG_PREFIX ?? 'example/config/',
    }),
    { logger: ['log', 'warn', 'error'] },
  );
  app.enableShutdownHooks();
  await app.listen(Number(env.PORT ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`EXAMPLE_READY ${JSON.stringify({ port: address.port })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
