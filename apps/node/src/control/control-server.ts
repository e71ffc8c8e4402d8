import { ServerRedis } from '@nestjs/microservices';
import { openEnvelope, sealEnvelope } from '@app/bus';
import { redisOptions } from '@app/config';
import {
  controlPattern,
  ledgerPattern,
  membershipPattern,
  type MembershipRequest,
  type ControlEnvelopeBody,
  type ControlRefusal,
  type ControlReplyBody,
  type ControlRequest,
} from '@app/wire';
import { answerLedger } from '../ledger/ledger-handler';
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
  const auth = replica.bus.auth;
  sealedHandler(server, auth, controlPattern(cfg.cluster, cfg.nodeId), replica, (req) => replica.control(req as ControlRequest));
  // The ledger's queries (blocks, verify) come through the same door, sealed the same way.
  sealedHandler(server, auth, ledgerPattern(cfg.cluster, cfg.nodeId), replica, (req) => answerLedger(cfg.nodeId, replica.ledger(), req));
  sealedHandler(server, auth, membershipPattern(cfg.cluster, cfg.nodeId), replica, (req) => replica.membership(req as MembershipRequest));
  return server;
}

/**
 * Opens a sealed command on `pattern`, runs `handle` on it and seals the answer for its sender.
 * Never rejects: the transport awaits the handler outside any catch, so a rejection would be an
 * unhandled one, which ends the process. A refusal is an answer, unsealed: it tells nothing.
 */
function sealedHandler(
  server: ServerRedis,
  auth: ReplicaService['bus']['auth'],
  pattern: string,
  replica: ReplicaService,
  handle: (req: unknown) => Promise<unknown>,
): void {
  server.addHandler(pattern, async (msg: unknown) => {
    const opened = openEnvelope(auth, pattern, msg);
    const { corr, req } = (typeof opened === 'string' ? {} : (opened.body ?? {})) as Partial<ControlEnvelopeBody>;
    if (typeof opened === 'string' || typeof corr !== 'string') {
      replica.counters.controlRefused++;
      return { refused: typeof opened === 'string' ? opened : 'malformed' } satisfies ControlRefusal;
    }
    // A control command answers a ControlStatus; a ledger query its own answer (libs/wire/src/ledger.ts).
    let reply: ControlReplyBody | { corr: string; status: unknown };
    try {
      reply = { corr, status: await handle(req) };
    } catch (err) {
      reply = { corr, error: err instanceof Error ? err.message : String(err) };
    }
    return sealEnvelope(auth, `${pattern}.reply`, opened.from, reply);
  });
}
