import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import type Redis from 'ioredis';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { redisOptions } from '@app/config';

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
 * Request/response to replicas' control handlers over the @nestjs/microservices Redis transport,
 * through each replica's home Redis (where its control server listens): one client per distinct
 * Redis, so a dead Redis cuts off only the replica it homes. The transport waits forever by itself,
 * so every request carries a timeout.
 */
@Injectable()
export class ControlPlane implements OnApplicationShutdown {
  private readonly clients = new Map<string, ClientProxy>(); // by Redis URL
  private readonly routes: Record<string, string>;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.routes = config.busRoutes;
    for (const url of new Set(Object.values(config.busRoutes))) {
      this.clients.set(
        url,
        ClientProxyFactory.create({
          transport: Transport.REDIS,
          options: { ...redisOptions(url).options, retryAttempts: RETRY_ATTEMPTS, retryDelay: RETRY_DELAY_MS },
        }),
      );
    }
  }

  /** Sends `data` to `pattern` through the home Redis of replica `node`. */
  async request<T>(node: string, pattern: string, data: unknown, timeoutMs: number): Promise<T> {
    const client = this.clients.get(this.routes[node]);
    if (!client) throw new ControlFailedError(pattern, `no bus route to ${node}`);
    try {
      return await firstValueFrom(client.send<T>(pattern, data).pipe(timeout({ first: timeoutMs })));
    } catch (err) {
      if (err instanceof TimeoutError) throw new ControlTimeoutError(pattern, timeoutMs);
      throw new ControlFailedError(pattern, describe(err));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => closeClient(c)));
  }
}

async function closeClient(client: ClientProxy): Promise<void> {
  // close() quits politely, which waits for a Redis that may be gone: give it a moment, then cut.
  await withTimeout(client.close(), 500, 'close').catch(() => undefined);
  try {
    for (const conn of client.unwrap<[Redis, Redis]>()) conn.disconnect();
  } catch {
    // never connected, or already closed
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
