import { z } from 'zod';
import type { Protocol } from '@app/wire';
import { busRoutes, busShape, checkCluster, clusterNodes, clusterShape, clusterVoters, ignore } from './cluster';
import { parseEnv } from './config-error';
import { host, int, oneOf, port, redisUrl, requiredId, variable, type Report } from './pieces';

/** Everything a replica is told at start, validated once; each bad value gets its own message. */
export interface NodeConfig {
  cluster: string;
  nodeId: string;
  /**
   * Every replica identity of the cluster, this one included: who may speak on the bus (keys) and
   * where its inbox is. The Raft membership is a subset of it, replicated in the log.
   */
  nodes: string[];
  /** The initial configuration: Raft's voters, PBFT's replicas (VOTERS, default NODES). */
  voters: string[];
  /**
   * Started to join a running cluster (JOIN=true). Raft: no initial configuration, learn it from the
   * leader. PBFT: start empty, trusting `pbftConfiguration`, and catch up by certified state transfer.
   */
  join: boolean;
  /**
   * PBFT, JOIN only: the configuration in force when this replica was added (PBFT_CONFIGURATION), the
   * one it trusts at start; null: the initial one (VOTERS, epoch 0), whose certified chain of
   * changes leads to the present as long as one of its replicas still serves state transfer.
   */
  pbftConfiguration: PbftTrustedConfiguration | null;
  protocol: Protocol;
  /** Every node's bus home (its inbox's Redis), by node id. */
  busRoutes: Record<string, string>;
  storageUrl: string;
  /** Address of the health/metrics server. */
  httpHost: string;
  httpPort: number;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  beaconMs: number;
  /** Take a state-machine snapshot and compact the log every this many applied entries. */
  snapshotEvery: number;
  maxEntriesPerMessage: number;
  /** Entry bytes per AppendEntries: keeps frames well under Redis's pub/sub output-buffer limits. */
  maxBytesPerMessage: number;
  maxInflight: number;
  /** The key files (libs/wire/src/keys.ts): bus frame keys, PBFT signing keys. */
  keysDir: string;
  /** Check bus frames' MACs and freshness (false only in tests: BUS_AUTH=off-test-only). */
  busVerify: boolean;
  /** PBFT: requests per pre-prepare at most. */
  pbftMaxBatch: number;
  /** PBFT: batches the primary keeps ordered but not yet executed (PbftConfig.maxInflightBatches). */
  pbftInflightBatches: number;
  /** PBFT: K, a checkpoint every K sequence numbers (the log window is 4K). */
  pbftCheckpointInterval: number;
  /** Results each client's session keeps: its this many most recent request seqs (kv/sessions.ts). Every replica must agree. */
  sessionWindow: number;
  /** Changes the replicated history keeps (kv/history.ts): older ones are compacted away. Every replica must agree. */
  historyEvents: number;
  /** What the lease clock counts a TTL as: 1, or 0.5 for the lease tests' canary (LEASE_CLOCK=half-ttl-test-only). */
  leaseTtlFactor: number;
}

/** A PBFT configuration as the core takes it (PbftConfig.configuration). */
export interface PbftTrustedConfiguration {
  epoch: number;
  replicas: string[];
  since: number;
}

/** PBFT_CONFIGURATION: `{"epoch":E,"replicas":[...],"since":S}`, as GET /v1/members shows it. */
const pbftConfiguration = () =>
  variable((t, bad): PbftTrustedConfiguration | null => {
    if (t === undefined) return null;
    let v: Partial<PbftTrustedConfiguration> | null = null;
    try {
      v = JSON.parse(t) as Partial<PbftTrustedConfiguration>;
    } catch {
      // reported below
    }
    const count = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    const ids = v?.replicas;
    if (v === null || typeof v !== 'object' || !count(v.epoch) || !count(v.since) || !Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      bad(`must be JSON {"epoch":E,"replicas":["n1",...],"since":S} (the configuration GET /v1/members shows), got ${JSON.stringify(t)}`);
      return null;
    }
    return { epoch: v.epoch as number, replicas: [...ids], since: v.since as number };
  });

const nodeVars = z.object({
  ...clusterShape,
  ...busShape,
  NODE_ID: requiredId("this replica's id, one of NODES"),
  JOIN: oneOf(['false', 'true'], 'false'),
  PBFT_CONFIGURATION: pbftConfiguration(),
  STORAGE_URL: redisUrl(),
  HTTP_HOST: host('127.0.0.1'),
  HTTP_PORT: port(0),
  TICK_MS: int(50, 1, 10_000),
  ELECTION_TICKS: int(10, 2, 10_000),
  HEARTBEAT_TICKS: int(2, 1, 10_000),
  BEACON_MS: int(200, 10, 60_000),
  SNAPSHOT_EVERY: int(10_000, 1, 100_000_000),
  MAX_ENTRIES_PER_MESSAGE: int(256, 1, 100_000),
  MAX_BYTES_PER_MESSAGE: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  MAX_INFLIGHT: int(64, 1, 10_000),
  PBFT_MAX_BATCH: int(64, 1, 10_000),
  PBFT_INFLIGHT_BATCHES: int(1, 1, 1000),
  PBFT_CHECKPOINT_INTERVAL: int(32, 1, 100_000),
  SESSION_WINDOW: int(1000, 1, 100_000),
  HISTORY_EVENTS: int(10_000, 1, 10_000_000),
  /** `half-ttl-test-only` expires leases at half their TTL: the lease tests' canary, refused outside NODE_ENV=test. */
  LEASE_CLOCK: oneOf(['on', 'half-ttl-test-only'], 'on'),
});
type NodeVars = z.output<typeof nodeVars>;

/** The rules across variables; the same code reports (in the check) and derives (in the build). */
function derive(v: NodeVars, bad: Report) {
  checkCluster(v, bad);
  const nodes = clusterNodes(v);
  if (v.NODE_ID && !nodes.includes(v.NODE_ID)) bad(`NODE_ID ${v.NODE_ID} is not in NODES (${nodes.join(',')})`);
  const voters = clusterVoters(v);
  const conf = v.PBFT_CONFIGURATION;
  if (conf !== null) {
    if (v.PROTOCOL !== 'pbft' || v.JOIN !== 'true') bad('PBFT_CONFIGURATION is for a PBFT replica started to join (JOIN=true)');
    const strangers = conf.replicas.filter((id) => !nodes.includes(id));
    if (strangers.length > 0) bad(`PBFT_CONFIGURATION names ${strangers.join(', ')}, not in NODES (${nodes.join(',')})`);
    const n = conf.replicas.length;
    if (n < 4 || (n - 1) % 3 !== 0 || new Set(conf.replicas).size !== n) bad(`PBFT_CONFIGURATION needs n = 3f+1 distinct replicas (4, 7, ...), has ${n}`);
  }
  const bus = busRoutes(v, nodes, bad);
  const storageUrl = v.STORAGE_URL ?? v.REDIS_URL;
  if (storageUrl === undefined) bad("STORAGE_URL is required (the Redis of this replica's log); REDIS_URL is used when it is unset");
  if (v.LEASE_CLOCK !== 'on' && v.NODE_ENV !== 'test')
    bad(`LEASE_CLOCK=${v.LEASE_CLOCK} expires leases early and exists for the test suite only (NODE_ENV=test)`);
  if (v.HEARTBEAT_TICKS >= v.ELECTION_TICKS) bad(`HEARTBEAT_TICKS must be below ELECTION_TICKS (${v.HEARTBEAT_TICKS} >= ${v.ELECTION_TICKS})`);
  return { nodes, voters, busRoutes: bus.routes, storageUrl: storageUrl ?? '' };
}

/** The replica's environment schema (apps/node). */
export const nodeEnvSchema = nodeVars
  .superRefine(
    (v, ctx) => void derive(v, (message) => ctx.addIssue({ code: 'custom', message })),
    // Run even when a variable is bad: every piece still yields a value, and every problem is listed.
    { when: () => true },
  )
  .transform((v): NodeConfig => {
    const d = derive(v, ignore);
    return {
      cluster: v.CLUSTER,
      nodeId: v.NODE_ID,
      nodes: d.nodes,
      voters: d.voters,
      join: v.JOIN === 'true',
      pbftConfiguration: v.PBFT_CONFIGURATION,
      protocol: v.PROTOCOL,
      busRoutes: d.busRoutes,
      storageUrl: d.storageUrl,
      httpHost: v.HTTP_HOST,
      httpPort: v.HTTP_PORT,
      tickMs: v.TICK_MS,
      electionTicks: v.ELECTION_TICKS,
      heartbeatTicks: v.HEARTBEAT_TICKS,
      beaconMs: v.BEACON_MS,
      snapshotEvery: v.SNAPSHOT_EVERY,
      maxEntriesPerMessage: v.MAX_ENTRIES_PER_MESSAGE,
      maxBytesPerMessage: v.MAX_BYTES_PER_MESSAGE,
      maxInflight: v.MAX_INFLIGHT,
      keysDir: v.KEYS_DIR ?? '',
      busVerify: v.BUS_AUTH === 'on',
      pbftMaxBatch: v.PBFT_MAX_BATCH,
      pbftInflightBatches: v.PBFT_INFLIGHT_BATCHES,
      pbftCheckpointInterval: v.PBFT_CHECKPOINT_INTERVAL,
      sessionWindow: v.SESSION_WINDOW,
      historyEvents: v.HISTORY_EVENTS,
      leaseTtlFactor: v.LEASE_CLOCK === 'on' ? 1 : 0.5,
    };
  });

/** Reads and checks a replica's environment; throws ConfigError listing every problem at once. */
export function loadNodeConfig(env: Record<string, string | undefined> = process.env): NodeConfig {
  return parseEnv(nodeEnvSchema, env, 'replica');
}
