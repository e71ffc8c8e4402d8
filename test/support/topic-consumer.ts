/**
 * A consumer instance for test/topics.e2e-spec.ts, run as a child process so that the test can
 * SIGKILL it: a Nest microservice with one @EventPattern(TOPIC) handler, on
 *   TRANSPORT=synod: SynodServer in consumer group GROUP; the effect of a message is a KV counter
 *     per message key (`<PREFIX>count/<key>`) incremented with `incrementOnce` (exactly once);
 *   TRANSPORT=redis: Nest's Transport.REDIS (pub/sub) on REDIS_PORT; no effect.
 * Each handled message is one stdout line `H {"k","n","o","a","x"}` (key, sequence number,
 * offset, attempt, whether this delivery applied the effect), written before the handler resolves
 * (stdout to a pipe is synchronous on Linux, so a SIGKILL loses no line of a handled message).
 * Run: node -r ts-node/register/transpile-only -r tsconfig-paths/register test/support/topic-consumer.ts
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { incrementOnce, SynodClient, SynodContext, SynodServer } from '@app/client';

const env = process.env;
const TOPIC = env.TOPIC ?? 'orders.created';
const PREFIX = env.PREFIX ?? 'e2e/';
const HANDLER_MS = Number(env.HANDLER_MS ?? 0);
const synod =
  env.TRANSPORT === 'redis'
    ? null
    : new SynodClient({ endpoints: (env.SYNOD_ENDPOINTS ?? '').split(','), clientId: `consumer-${env.INSTANCE}-${process.pid}` });

interface Msg {
  k: string;
  n: number;
}

@Controller()
class Handler {
  @EventPattern(TOPIC)
  async handle(@Payload() m: Msg, @Ctx() ctx: unknown): Promise<void> {
    if (HANDLER_MS > 0) await new Promise((r) => setTimeout(r, HANDLER_MS));
    if (synod === null) {
      process.stdout.write(`H ${JSON.stringify({ k: m.k, n: m.n })}\n`);
      return;
    }
    const c = ctx as SynodContext;
    const applied = await incrementOnce(synod, c.getId(), `${PREFIX}count/${m.k}`);
    process.stdout.write(`H ${JSON.stringify({ k: m.k, n: m.n, o: c.getOffset(), a: c.getAttempt(), x: applied })}\n`);
  }
}

@Module({ controllers: [Handler] })
class ConsumerModule {}

async function main(): Promise<void> {
  const options: MicroserviceOptions =
    synod === null
      ? { transport: Transport.REDIS, options: { host: '127.0.0.1', port: Number(env.REDIS_PORT), retryAttempts: 1000, retryDelay: 100 } }
      : {
          strategy: new SynodServer({
            endpoints: [],
            client: synod,
            group: env.GROUP ?? 'e2e',
            consumer: env.INSTANCE,
            concurrency: Number(env.CONCURRENCY ?? 16),
            visibilityMs: Number(env.VISIBILITY_MS ?? 3000),
            waitMs: 2000,
          }),
        };
  const app = await NestFactory.createMicroservice(ConsumerModule, { ...options, logger: ['error'] });
  await app.listen();
  process.stdout.write('CONSUMER_READY\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
