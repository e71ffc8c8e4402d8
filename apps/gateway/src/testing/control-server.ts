import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Transport } from '@nestjs/microservices';
import { redisOptions } from '@app/config';

export type ControlHandler = (data: unknown) => unknown;

export interface ControlServer {
  readonly calls: Array<{ pattern: string; data: unknown }>;
  close(): Promise<void>;
}

/**
 * A tiny Nest microservice on the Redis transport answering the given patterns, as a replica's
 * control plane or the launcher's supervisor would. Handlers are attached at run time because
 * the patterns carry the test's cluster name.
 */
export async function startControlServer(url: string, handlers: Record<string, ControlHandler>): Promise<ControlServer> {
  const calls: ControlServer['calls'] = [];
  class ControlHandlers {}
  Object.entries(handlers).forEach(([pattern, fn], i) => {
    const name = `handle${i}`;
    Object.defineProperty(ControlHandlers.prototype, name, {
      value: async (data: unknown) => {
        calls.push({ pattern, data });
        return fn(data);
      },
      writable: true,
      configurable: true,
    });
    MessagePattern(pattern)(ControlHandlers.prototype, name, Object.getOwnPropertyDescriptor(ControlHandlers.prototype, name) as PropertyDescriptor);
  });
  Controller()(ControlHandlers);
  class ControlModule {}
  Module({ controllers: [ControlHandlers] })(ControlModule);

  const app: INestMicroservice = await NestFactory.createMicroservice(ControlModule, {
    transport: Transport.REDIS,
    // Reconnect like a real replica's control plane would after a Redis restart.
    options: { ...redisOptions(url).options, retryAttempts: 1000, retryDelay: 100 },
    logger: false,
  });
  await app.listen();
  return { calls, close: () => app.close() };
}
