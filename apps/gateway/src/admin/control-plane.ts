import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import type Redis from 'ioredis';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { redisOptionsFromUrl } from '../config/redis-options';

/** Nobody answered within the time given. */
export class ControlTimeoutError extends Error {
  constructor(
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer on ${pattern} within ${timeoutMs} ms`);
    this.name = 'ControlTimeoutError';
  }
}

/** The other side answered with an error, or the transport failed. */
export class ControlFailedError extends Error {
  constructor(
    readonly pattern: string,
    readonly detail: string,
  ) {
    super(`${pattern}: ${detail}`);
    this.name = 'ControlFailedError';
  }
}

// Reconnect for as long as the gateway lives: a Redis restart must not cut the admin API off for good.
const RETRY_ATTEMPTS = Number.MAX_SAFE_INTEGER;
const RETRY_DELAY_MS = 500;

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return typeof err === 'string' ? err : JSON.stringify(err);
}

/**
 * Request/response to replicas' and the launcher's control handlers over the @nestjs/microservices
 * Redis transport. The transport waits forever by itself, so every request carries a timeout.
 */
@Injectable()
export class ControlPlane implements OnApplicationShutdown {
  private readonly logger = new Logger('ControlPlane');
  private readonly client: ClientProxy;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.client = ClientProxyFactory.create({
      transport: Transport.REDIS,
      options: { ...redisOptionsFromUrl(config.busUrl), retryAttempts: RETRY_ATTEMPTS, retryDelay: RETRY_DELAY_MS },
    });
  }

  async request<T>(pattern: string, data: unknown, timeoutMs: number): Promise<T> {
    try {
      return await firstValueFrom(this.client.send<T>(pattern, data).pipe(timeout({ first: timeoutMs })));
    } catch (err) {
      if (err instanceof TimeoutError) throw new ControlTimeoutError(pattern, timeoutMs);
      throw new ControlFailedError(pattern, describe(err));
    }
  }

  /**
   * Whether anything listens on `pattern` (PUBSUB NUMSUB): lets a missing launcher be told at once
   * instead of after a timeout. undefined when Redis cannot say.
   */
  async hasListener(pattern: string, timeoutMs: number): Promise<boolean | undefined> {
    try {
      await withTimeout(this.client.connect(), timeoutMs, 'connect');
      const [pub] = this.client.unwrap<[Redis, Redis]>();
      const reply = (await withTimeout(pub.pubsub('NUMSUB', pattern), timeoutMs, 'PUBSUB NUMSUB')) as unknown[];
      return Number(reply[1]) > 0;
    } catch (err) {
      this.logger.warn(`cannot tell whether ${pattern} has listeners: ${describe(err)}`);
      return undefined;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // close() quits politely, which waits for a Redis that may be gone: give it a moment, then cut.
    await withTimeout(this.client.close(), 500, 'close').catch(() => undefined);
    try {
      for (const conn of this.client.unwrap<[Redis, Redis]>()) conn.disconnect();
    } catch {
      // never connected, or already closed
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
