import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SynodModule, SynodServer } from '@app/client';
import { PaymentsController } from './payments.controller';
import { settings } from './settings';

@Module({ imports: [SynodModule.forRoot({ endpoints: settings.endpoints, token: settings.token })], controllers: [PaymentsController] })
class PaymentsModule {}

/**
 * One instance of the payments consumer group (run two or more): SYNOD_ENDPOINTS, GROUP, INSTANCE,
 * CONCURRENCY, VISIBILITY_MS. Prints `EXAMPLE_READY {"instance":...}` once it consumes.
 */
async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice(PaymentsModule, {
    strategy: new SynodServer({
      endpoints: settings.endpoints,
      token: settings.token,
      group: settings.group,
      consumer: settings.instance,
      concurrency: settings.concurrency,
      visibilityMs: settings.visibilityMs,
    }),
    logger: ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  await app.listen();
  process.stdout.write(`EXAMPLE_READY ${JSON.stringify({ instance: settings.instance })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
