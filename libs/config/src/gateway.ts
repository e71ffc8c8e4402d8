import { z } from 'zod';
import type { Protocol } from '@app/wire';
import { busRoutes, busShape, checkCluster, clusterNodes, clusterShape, ignore } from './cluster';
import { parseEnv } from './config-error';
import { host, httpUrl, int, ms, port, redisUrl, secret, size, type Report } from './pieces';

/** Everything the gateway reads from its environment, resolved and checked. */
export interface GatewayConfig {
  port: number;
  /** Address to listen on. */
  host: string;
  cluster: string;
  /** Every node's bus home (its inbox's Redis), by node id. */
  busRoutes: Record<string, string>;
  /** The first node's bus home, for code that still knows one bus Redis (and the control plane). */
  busUrl: string;
  /** Redis of the BullMQ command queue. */
  queueUrl: string;
  nodes: string[];
  protocol: Protocol;
  /** null = admin routes are open. */
  adminToken: string | null;
  /** The launcher's supervisor (http://host:port), or null when nothing supervises the processes. */
  supervisorUrl: string | null;
  /** Bearer token for the supervisor; null = none. */
  supervisorToken: string | null;
  /** How long a client request may take in total before 503/504. */
  requestTimeoutMs: number;
  /** How long one attempt waits for a replica's answer before the request is sent again. */
  attemptTimeoutMs: number;
  /** How long an admin call waits for the replica's (or supervisor's) control plane. */
  controlTimeoutMs: number;
  /** How long the supervisor gets to say which processes run before revive falls back to the replica. */
  supervisorTimeoutMs: number;
  /** A node whose last beacon is older than this is not alive. */
  beaconTimeoutMs: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  bodyLimitBytes: number;
  /** BODY_LIMIT as written, for messages. */
  bodyLimit: string;
  /** Most requests in one ProposeBody frame. */
  maxBatchRequests: number;
  /** BullMQ: attempts per command batch, and the first backoff delay (doubles each time). */
  commandAttempts: number;
  commandBackoffMs: number;
  /** PBFT: the directory of Ed25519 key files (the gateway signs as the client `gateway`). */
  keysDir: string | null;
}

const gatewayVars = z.object({
  ...clusterShape,
  ...busShape,
  QUEUE_URL: redisUrl(),
  PORT: port(3000),
  HOST: host('127.0.0.1'),
  ADMIN_TOKEN: secret(),
  SUPERVISOR_URL: httpUrl(),
  SUPERVISOR_TOKEN: secret(),
  REQUEST_TIMEOUT_MS: ms(5000, 10),
  ATTEMPT_TIMEOUT_MS: ms(1000, 5),
  CONTROL_TIMEOUT_MS: ms(5000, 10),
  // Replicas beacon every BEACON_MS (200): a few missed beacons and the node is shown dead.
  BEACON_TIMEOUT_MS: ms(900, 50),
  MAX_KEY_BYTES: int(1024, 1, 2 ** 31 - 1),
  MAX_VALUE_BYTES: int(65536, 1, 2 ** 31 - 1),
  BODY_LIMIT: size('1mb'),
});
type GatewayVars = z.output<typeof gatewayVars>;

function derive(v: GatewayVars, bad: Report) {
  checkCluster(v, bad);
  const nodes = clusterNodes(v);
  const bus = busRoutes(v, nodes, bad);
  const queueUrl = v.QUEUE_URL ?? bus.single ?? v.REDIS_URL;
  // Only when a bus exists: with none, the bus problem already says what to set.
  if (queueUrl === undefined && v.BUS_URLS !== undefined)
    bad('QUEUE_URL is required with BUS_URLS (the Redis of the command queue); REDIS_URL is used when it is unset');
  return { nodes, busRoutes: bus.routes, queueUrl: queueUrl ?? '' };
}

/** The gateway's environment schema (apps/gateway). */
export const gatewayEnvSchema = gatewayVars
  .superRefine(
    (v, ctx) => void derive(v, (message) => ctx.addIssue({ code: 'custom', message })),
    // Run even when a variable is bad: every piece still yields a value, and every problem is listed.
    { when: () => true },
  )
  .transform((v): GatewayConfig => {
    const d = derive(v, ignore);
    return {
      port: v.PORT,
      host: v.HOST,
      cluster: v.CLUSTER,
      busRoutes: d.busRoutes,
      busUrl: d.busRoutes[d.nodes[0]],
      queueUrl: d.queueUrl,
      nodes: d.nodes,
      protocol: v.PROTOCOL,
      adminToken: v.ADMIN_TOKEN,
      supervisorUrl: v.SUPERVISOR_URL,
      supervisorToken: v.SUPERVISOR_TOKEN,
      requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
      attemptTimeoutMs: Math.min(v.ATTEMPT_TIMEOUT_MS, v.REQUEST_TIMEOUT_MS),
      controlTimeoutMs: v.CONTROL_TIMEOUT_MS,
      supervisorTimeoutMs: Math.min(1000, v.CONTROL_TIMEOUT_MS),
      beaconTimeoutMs: v.BEACON_TIMEOUT_MS,
      maxKeyBytes: v.MAX_KEY_BYTES,
      maxValueBytes: v.MAX_VALUE_BYTES,
      bodyLimitBytes: v.BODY_LIMIT.bytes,
      bodyLimit: v.BODY_LIMIT.text,
      maxBatchRequests: 512,
      commandAttempts: 10,
      commandBackoffMs: 250,
      keysDir: v.KEYS_DIR,
    };
  });

/** Reads and checks the gateway's environment; throws ConfigError listing every problem at once. */
export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(gatewayEnvSchema, env, 'gateway');
}
