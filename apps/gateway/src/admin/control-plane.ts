import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import type Redis from 'ioredis';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { redisOptions } from '@app/config';
import { openEnvelope, sealEnvelope, type Envelope } from '@app/bus';
import type { ControlEnvelopeBody, ControlRefusal, ControlReplyBody } from '@app/wire';
import { GatewayBus } from '../bus/gateway-bus';

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
    /** Why the replica refused the command's authentication, when it did. */
    readonly refused?: string,
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

// After a replica restarts, its next beacon tells us its new incarnation; a command sealed for the
// old one is refused (staleIncarnation) and sent again once the new one is known, within this time.
const NEW_INCARNATION_WAIT_MS = 2000;

/**
 * Request/response to replicas' control handlers over the @nestjs/microservices Redis transport,
 * through each replica's home Redis (where its control server listens): one client per distinct
 * Redis, so a dead Redis cuts off only the replica it homes. The transport waits forever by itself,
 * so every request carries a timeout.
 *
 * Commands and answers are sealed like bus frames (libs/bus/src/envelope.ts): a command names the
 * replica's current incarnation (learnt from its beacons) and an answer must carry the command's
 * `corr`, so nobody on the Redis can issue, replay or answer a command in the gateway's name.
 */
@Injectable()
export class ControlPlane implements OnApplicationShutdown {
  private readonly clients = new Map<string, ClientProxy>(); // by Redis URL
  private readonly routes: Record<string, string>;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly bus: GatewayBus,
  ) {
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

  /** Sends `data` to `pattern` through the home Redis of replica `node`; its answer, authenticated. */
  async request<T>(node: string, pattern: string, data: unknown, timeoutMs: number): Promise<T> {
    const client = this.clients.get(this.routes[node]);
    if (!client) throw new ControlFailedError(pattern, `no bus route to ${node}`);
    const deadline = Date.now() + timeoutMs;
    const known = this.bus.auth.incarnationOf(node);
    try {
      return await this.once<T>(client, node, pattern, data, timeoutMs);
    } catch (err) {
      // The replica restarted since its last beacon we heard: send again once the new one is known.
      if (!(err instanceof ControlFailedError && err.refused === 'staleIncarnation')) throw err;
      const waitUntil = Math.min(deadline, Date.now() + NEW_INCARNATION_WAIT_MS);
      while (this.bus.auth.incarnationOf(node) === known && Date.now() < waitUntil) await sleep(50);
      return this.once<T>(client, node, pattern, data, Math.max(1, deadline - Date.now()));
    }
  }

  private async once<T>(client: ClientProxy, node: string, pattern: string, data: unknown, timeoutMs: number): Promise<T> {
    const auth = this.bus.auth;
    if (auth.incarnationOf(node) === undefined) throw new ControlFailedError(pattern, `no authenticated beacon heard from ${node} yet`);
    const corr = randomUUID();
    let answer: Envelope | ControlRefusal;
    try {
      answer = await firstValueFrom(
        client
          .send<Envelope | ControlRefusal>(pattern, sealEnvelope(auth, pattern, node, { corr, req: data } satisfies ControlEnvelopeBody))
          .pipe(timeout({ first: timeoutMs })),
      );
    } catch (err) {
      if (err instanceof TimeoutError) throw new ControlTimeoutError(pattern, timeoutMs);
      throw new ControlFailedError(pattern, describe(err));
    }
    if (typeof answer === 'object' && answer !== null && 'refused' in answer)
      throw new ControlFailedError(pattern, `the command was refused: ${answer.refused}`, answer.refused);
    const opened = openEnvelope(auth, `${pattern}.reply`, answer);
    if (typeof opened === 'string') throw new ControlFailedError(pattern, `the answer failed authentication (${opened})`);
    const reply = opened.body as ControlReplyBody;
    if (opened.from !== node || reply?.corr !== corr) throw new ControlFailedError(pattern, 'the answer is not for this command');
    if ('error' in reply) throw new ControlFailedError(pattern, reply.error);
    return reply.status as T;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => closeClient(c)));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
