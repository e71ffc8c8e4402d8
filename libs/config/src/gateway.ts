import { BlockList, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { Protocol } from '@app/wire';
import { busRoutes, busShape, checkCluster, clusterNodes, clusterShape, clusterVoters, ignore } from './cluster';
import { parseEnv } from './config-error';
import { host, httpUrl, int, ms, oneOf, port, redisUrl, secret, size, variable, type Report } from './pieces';

/** Everything the gateway reads from its environment, resolved and checked. */
export interface GatewayConfig {
  port: number;
  /** Address to listen on. */
  host: string;
  cluster: string;
  /** Every node's bus home (its inbox's Redis), by node id. */
  busRoutes: Record<string, string>;
  /** Redis of the BullMQ command queue. */
  queueUrl: string;
  /** Every replica identity (NODES). */
  nodes: string[];
  /** Raft: the initial voters (VOTERS, default NODES); the membership itself is learned from the leader. */
  voters: string[];
  protocol: Protocol;
  /** null = admin routes are open (only ever on a loopback HOST: elsewhere the config is refused). */
  adminToken: string | null;
  /** Origins allowed cross-origin (CORS) and to send writes; empty = CORS off, same origin only. */
  corsOrigins: string[];
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
  /** Most compares and ops, together, in one transaction. */
  maxTxnOps: number;
  /** Compact the history older than this (0: keep it by count only, HISTORY_EVENTS on the replicas). */
  historyRetainMs: number;
  /** How often an idle watch stream gets a progress event with the current revision. */
  watchProgressMs: number;
  bodyLimitBytes: number;
  /** BODY_LIMIT as written, for messages. */
  bodyLimit: string;
  /** Most requests in one ProposeBody frame. */
  maxBatchRequests: number;
  /**
   * Raft: where reads go. `leader` (default): all to the leader. `any`: spread over the replicas
   * alive, a follower serving a linearizable read at the index its leader confirms (follower
   * ReadIndex, thesis §6.4.1) — for machines with cores to spare: on 2 cores the extra hop cost
   * ~12% of read throughput (docs/results.md).
   */
  readsFrom: 'leader' | 'any';
  /** BullMQ: attempts per command batch, and the first backoff delay (doubles each time). */
  commandAttempts: number;
  commandBackoffMs: number;
  /** The key files (libs/wire/src/keys.ts): bus frame keys, and PBFT's (the gateway signs as the client `gateway`). */
  keysDir: string;
  /**
   * Gateway processes serving the port (node:cluster: the first forks the others, the kernel
   * spreads connections). Gateways are stateless, so this is how the HTTP side uses cores.
   */
  workers: number;
  /** Check bus frames' MACs and freshness (false only in tests: BUS_AUTH=off-test-only). */
  busVerify: boolean;
}

/** GATEWAY_WORKERS: an integer in [1, 64], or `auto` (the default): see autoWorkers. */
function workerCount() {
  return variable((t, bad): number | 'auto' => {
    if (t === undefined || t === 'auto') return 'auto';
    const n = Number(t);
    if (/^\d+$/.test(t) && n >= 1 && n <= 64) return n;
    bad(`must be "auto" or an integer in [1, 64], got ${JSON.stringify(t)}`);
    return 'auto';
  });
}

/**
 * How many gateway processes `auto` starts. Measured on 16 cores (docs/results.md, issue 11): Raft
 * writes +16 % / +40 % and reads +31 % with four gateways against one, and less with eight (each
 * gateway's batches to the leader get smaller, the leader's thread is then the limit); on 2 cores
 * a second gateway costs a quarter (it competes with the replicas and Redis). PBFT loses with
 * every gateway added: each process is a PBFT client of its own, so the primary orders more,
 * smaller signed requests. Hence a quarter of the cores, at most four, for Raft; one for PBFT.
 */
export function autoWorkers(protocol: Protocol, cores: number): number {
  return protocol === 'pbft' ? 1 : Math.min(4, Math.max(1, Math.floor(cores / 4)));
}

const gatewayVars = z.object({
  ...clusterShape,
  ...busShape,
  QUEUE_URL: redisUrl(),
  PORT: port(3000),
  HOST: host('127.0.0.1'),
  ADMIN_TOKEN: secret(),
  CORS_ORIGINS: originList(),
  SUPERVISOR_URL: httpUrl(),
  SUPERVISOR_TOKEN: secret(),
  REQUEST_TIMEOUT_MS: ms(5000, 10),
  ATTEMPT_TIMEOUT_MS: ms(1000, 5),
  CONTROL_TIMEOUT_MS: ms(5000, 10),
  // Replicas beacon every BEACON_MS (200): a few missed beacons and the node is shown dead.
  BEACON_TIMEOUT_MS: ms(900, 50),
  MAX_KEY_BYTES: int(1024, 1, 2 ** 31 - 1),
  MAX_VALUE_BYTES: int(65536, 1, 2 ** 31 - 1),
  MAX_TXN_OPS: int(128, 1, 10_000),
  WATCH_PROGRESS_MS: ms(5000, 100),
  HISTORY_RETAIN_SECONDS: int(0, 0, 10 * 365 * 24 * 3600),
  BODY_LIMIT: size('1mb'),
  GATEWAY_WORKERS: workerCount(),
  READS_FROM: oneOf<'leader' | 'any'>(['leader', 'any'], 'leader'),
});
type GatewayVars = z.output<typeof gatewayVars>;

/** Loopback: 127.0.0.0/8, ::1 (and 127/8 mapped into IPv6). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether a bind address is reachable from this machine only. */
export function isLoopback(address: string): boolean {
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A comma list of web origins (https://app.example.com, http://localhost:8080), each as a browser
 * writes it in an Origin header (lower case, no default port, no path); unset = none.
 */
function originList() {
  return variable((t, bad): string[] => {
    if (t === undefined) return [];
    const out: string[] = [];
    for (const entry of t.split(',').map((s) => s.trim())) {
      let origin: string | null = null;
      try {
        const u = new URL(entry);
        const web = u.protocol === 'http:' || u.protocol === 'https:';
        if (web && !u.username && !u.password && u.pathname === '/' && !/[?#]/.test(entry)) origin = u.origin;
      } catch {
        origin = null;
      }
      if (origin === null)
        bad(`must be comma-separated origins like https://app.example.com (scheme, host and port only; "*" is not accepted), got ${JSON.stringify(entry)}`);
      else if (!out.includes(origin)) out.push(origin);
    }
    return out;
  });
}

function derive(v: GatewayVars, bad: Report) {
  checkCluster(v, bad);
  // The admin API can crash replicas: off loopback it always has a door.
  if (v.ADMIN_TOKEN === null && !isLoopback(v.HOST)) {
    bad(
      `ADMIN_TOKEN is required when HOST is not a loopback address (HOST is ${v.HOST}): the admin API would be open to the network; set ADMIN_TOKEN, or HOST=127.0.0.1`,
    );
  }
  const nodes = clusterNodes(v);
  const bus = busRoutes(v, nodes, bad);
  const queueUrl = v.QUEUE_URL ?? bus.single ?? v.REDIS_URL;
  // Only when a bus exists: with none, the bus problem already says what to set.
  if (queueUrl === undefined && v.BUS_URLS !== undefined)
    bad('QUEUE_URL is required with BUS_URLS (the Redis of the command queue); REDIS_URL is used when it is unset');
  return { nodes, voters: clusterVoters(v), busRoutes: bus.routes, queueUrl: queueUrl ?? '' };
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
      queueUrl: d.queueUrl,
      nodes: d.nodes,
      voters: d.voters,
      protocol: v.PROTOCOL,
      adminToken: v.ADMIN_TOKEN,
      corsOrigins: v.CORS_ORIGINS,
      supervisorUrl: v.SUPERVISOR_URL,
      supervisorToken: v.SUPERVISOR_TOKEN,
      requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
      attemptTimeoutMs: Math.min(v.ATTEMPT_TIMEOUT_MS, v.REQUEST_TIMEOUT_MS),
      controlTimeoutMs: v.CONTROL_TIMEOUT_MS,
      supervisorTimeoutMs: Math.min(1000, v.CONTROL_TIMEOUT_MS),
      beaconTimeoutMs: v.BEACON_TIMEOUT_MS,
      maxKeyBytes: v.MAX_KEY_BYTES,
      maxValueBytes: v.MAX_VALUE_BYTES,
      maxTxnOps: v.MAX_TXN_OPS,
      watchProgressMs: v.WATCH_PROGRESS_MS,
      historyRetainMs: v.HISTORY_RETAIN_SECONDS * 1000,
      bodyLimitBytes: v.BODY_LIMIT.bytes,
      bodyLimit: v.BODY_LIMIT.text,
      maxBatchRequests: 512,
      readsFrom: v.READS_FROM,
      commandAttempts: 10,
      commandBackoffMs: 250,
      keysDir: v.KEYS_DIR ?? '',
      workers: v.GATEWAY_WORKERS === 'auto' ? autoWorkers(v.PROTOCOL, availableParallelism()) : v.GATEWAY_WORKERS,
      busVerify: v.BUS_AUTH === 'on',
    };
  });

/** Reads and checks the gateway's environment; throws ConfigError listing every problem at once. */
export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(gatewayEnvSchema, env, 'gateway');
}
