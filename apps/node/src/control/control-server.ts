import { ServerRedis } from '@nestjs/microservices';
import { openEnvelope, sealEnvelope } from '@app/bus';
import { redisOptions } from '@app/config';
import { controlPattern, type ControlEnvelopeBody, type ControlRefusal, type ControlReplyBody, type ControlRequest } from '@app/wire';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaService } from '../replica/replica.service';

/**
 * The control plane: a @nestjs/microservices Redis server on this replica's own pattern, so a
 * gateway's kill/revive/isolate/heal/status reaches exactly this replica. It lives outside the
 * protocol runtime, so it keeps answering while the replica is "killed", and it reconnects after a
 * Redis restart (retryAttempts).
 *
 * Commands are sealed like bus frames, under the bus's keys (libs/bus/src/envelope.ts): one that is
 * not from a keyholder, not for this incarnation of this replica, or seen before is refused and
 * counted (`controlRefused`); the answer is sealed for the gateway that asked.
 */
export function createControlServer(cfg: NodeConfig, replica: ReplicaService): ServerRedis {
  // On this replica's home Redis, where the gateway sends to it (the same door as its bus inbox).
  const server = new ServerRedis({
    ...redisOptions(cfg.busRoutes[cfg.nodeId]).options,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
  });
  const pattern = controlPattern(cfg.cluster, cfg.nodeId);
  const auth = replica.bus.auth;
  // Never rejects: the transport awaits the handler outside any catch, so a rejection would be an
  // unhandled one, which ends the process. A refusal is an answer, unsealed: it tells nothing.
  server.addHandler(pattern, async (msg: unknown) => {
    const opened = openEnvelope(auth, pattern, msg);
    const { corr, req } = (typeof opened === 'string' ? {} : (opened.body ?? {})) as Partial<ControlEnvelopeBody>;
    if (typeof opened === 'string' || typeof corr !== 'string') {
      replica.counters.controlRefused++;
      return { refused: typeof opened === 'string' ? opened : 'malformed' } satisfies ControlRefusal;
    }
    let reply: ControlReplyBody;
    try {
      reply = { corr, status: await replica.control(req as ControlRequest) };
    } catch (err) {
      reply = { corr, error: err instanceof Error ? err.message : String(err) };
    }
    return sealEnvelope(auth, `${pattern}.reply`, opened.from, reply);
  });
  return server;
}
