import { ServerRedis } from '@nestjs/microservices';
import { controlPattern, ControlRequest } from '@app/wire';
import type { NodeConfig } from '../config/node-config';
import type { ReplicaService } from '../replica/replica.service';

/**
 * The control plane: a @nestjs/microservices Redis server on this replica's own pattern, so a
 * gateway's kill/revive/isolate/heal/status reaches exactly this replica. It lives outside the
 * protocol runtime, so it keeps answering while the replica is "killed", and it reconnects after a
 * Redis restart (retryAttempts).
 */
export function createControlServer(cfg: NodeConfig, replica: ReplicaService): ServerRedis {
  const url = new URL(cfg.busUrl);
  const server = new ServerRedis({
    host: url.hostname,
    port: Number(url.port || 6379),
    password: url.password || undefined,
    retryAttempts: Number.MAX_SAFE_INTEGER,
    retryDelay: 500,
  });
  server.addHandler(controlPattern(cfg.cluster, cfg.nodeId), async (req: ControlRequest) => {
    try {
      return { ok: true, status: await replica.control(req) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  });
  return server;
}
