import { ServerRedis } from '@nestjs/microservices';
import { redisOptions } from '@app/config';
import { asTransportError, controlPattern, ControlRequest } from '@app/wire';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaService } from '../replica/replica.service';

/**
 * The control plane: a @nestjs/microservices Redis server on this replica's own pattern, so a
 * gateway's kill/revive/isolate/heal/status reaches exactly this replica. It lives outside the
 * protocol runtime, so it keeps answering while the replica is "killed", and it reconnects after a
 * Redis restart (retryAttempts).
 */
export function createControlServer(cfg: NodeConfig, replica: ReplicaService): ServerRedis {
  // On this replica's home Redis, where the gateway sends to it (the same door as its bus inbox).
  const server = new ServerRedis({
    ...redisOptions(cfg.busRoutes[cfg.nodeId]).options,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
  });
  // The answer is the ControlStatus itself; a failure reaches the caller as the transport's error.
  server.addHandler(controlPattern(cfg.cluster, cfg.nodeId), (req: ControlRequest) => replica.control(req).catch(asTransportError));
  return server;
}
