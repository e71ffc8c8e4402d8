import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Transport } from '@nestjs/microservices';
import { openEnvelope, sealEnvelope, type FrameAuth } from '@app/bus';
import { redisOptions } from '@app/config';
import { controlPattern, type ControlEnvelopeBody, type ControlRefusal, type ControlReplyBody, type ControlStatus } from '@app/wire';

/** Applies a control request (`{ action, behavior? }`) and answers the replica's status, or throws. */
export type ControlHandler = (req: unknown) => unknown;

/**
 * The replica a control plane answers for: its pattern is controlPattern(cluster, id), and its bus
 * authenticator opens the gateway's sealed commands and seals the answers (a FakeReplica is one).
 * Its beacons must reach the gateway through that same bus, or the gateway never learns its
 * incarnation and sends it nothing.
 */
export interface ControlIdentity {
  readonly id: string;
  readonly cluster: string;
  readonly auth: FrameAuth;
}

/**
 * One control plane: `handle` answers authenticated commands; `raw` instead gets every message as it
 * arrives and answers whatever it likes, unchecked and unsealed (a rogue on the Redis, for attack tests).
 */
export type ControlPlaneSpec = { replica: ControlIdentity; handle: ControlHandler } | { replica: ControlIdentity; raw: (msg: unknown) => unknown };

export interface ControlServer {
  /** The commands that passed authentication, with the request each carried, in order. */
  readonly calls: Array<{ pattern: string; data: unknown }>;
  /** The commands refused, and why (badMac, replayed, staleIncarnation, malformed, ...). */
  readonly refused: Array<{ pattern: string; reason: string }>;
  close(): Promise<void>;
}

/**
 * A tiny Nest microservice on the Redis transport answering the control patterns of the given
 * replicas as their control planes would (apps/node/src/control/control-server.ts): a command must
 * be a sealed envelope for this incarnation of the replica, seen once; the answer is sealed for the
 * gateway that asked, `{ corr, status }` or `{ corr, error }`; a refusal is `{ refused }`, unsealed.
 * Handlers are attached at run time because the patterns carry the test's cluster name.
 */
export async function startControlServer(url: string, planes: ControlPlaneSpec[]): Promise<ControlServer> {
  const calls: ControlServer['calls'] = [];
  const refused: ControlServer['refused'] = [];
  class ControlHandlers {}
  planes.forEach((plane, i) => {
    const { replica } = plane;
    const pattern = controlPattern(replica.cluster, replica.id);
    const name = `handle${i}`;
    const answer = async (msg: unknown): Promise<unknown> => {
      if ('raw' in plane) {
        calls.push({ pattern, data: msg });
        return plane.raw(msg);
      }
      const opened = openEnvelope(replica.auth, pattern, msg);
      const { corr, req } = (typeof opened === 'string' ? {} : (opened.body ?? {})) as Partial<ControlEnvelopeBody>;
      if (typeof opened === 'string' || typeof corr !== 'string') {
        const reason = typeof opened === 'string' ? opened : 'malformed';
        refused.push({ pattern, reason });
        return { refused: reason } satisfies ControlRefusal;
      }
      calls.push({ pattern, data: req });
      let reply: ControlReplyBody;
      try {
        reply = { corr, status: (await plane.handle(req)) as ControlStatus };
      } catch (err) {
        reply = { corr, error: err instanceof Error ? err.message : String(err) };
      }
      return sealEnvelope(replica.auth, `${pattern}.reply`, opened.from, reply);
    };
    Object.defineProperty(ControlHandlers.prototype, name, { value: answer, writable: true, configurable: true });
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
  return { calls, refused, close: () => app.close() };
}
