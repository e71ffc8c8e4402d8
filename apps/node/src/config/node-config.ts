import type { Protocol } from '@app/wire';

/** Everything a replica is told at start, validated once; each bad value gets its own message. */
export interface NodeConfig {
  cluster: string;
  nodeId: string;
  /** Every replica of the cluster, this one included. */
  nodes: string[];
  protocol: Protocol;
  busUrl: string;
  storageUrl: string;
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
  /** PBFT: the directory of Ed25519 key files (libs/wire/src/keys.ts). */
  keysDir: string | null;
  /** PBFT: requests per pre-prepare at most. */
  pbftMaxBatch: number;
  /** PBFT: K, a checkpoint every K sequence numbers (the log window is 4K). */
  pbftCheckpointInterval: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string => {
    const v = env[name] ?? fallback;
    if (v === undefined || v === '') {
      problems.push(`${name} is required`);
      return '';
    }
    return v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    return n;
  };
  const url = (name: string, fallback?: string): string => {
    const v = str(name, fallback);
    if (v && !/^rediss?:\/\//.test(v)) problems.push(`${name} must be a redis:// URL, got ${JSON.stringify(v)}`);
    return v;
  };

  const cluster = str('CLUSTER', 'synod');
  if (cluster && !ID.test(cluster)) problems.push(`CLUSTER must match ${ID}, got ${JSON.stringify(cluster)}`);
  const nodeId = str('NODE_ID');
  if (nodeId && !ID.test(nodeId)) problems.push(`NODE_ID must match ${ID}, got ${JSON.stringify(nodeId)}`);
  const nodes = str('NODES').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of nodes) if (!ID.test(n)) problems.push(`NODES contains an invalid id ${JSON.stringify(n)}`);
  if (new Set(nodes).size !== nodes.length) problems.push('NODES has duplicates');
  if (nodeId && nodes.length > 0 && !nodes.includes(nodeId)) problems.push(`NODE_ID ${nodeId} is not in NODES (${nodes.join(',')})`);
  const protocol = str('PROTOCOL', 'raft') as Protocol;
  if (protocol !== 'raft' && protocol !== 'pbft') problems.push(`PROTOCOL must be raft or pbft, got ${JSON.stringify(protocol)}`);
  if (protocol === 'pbft' && nodes.length > 0 && (nodes.length < 4 || (nodes.length - 1) % 3 !== 0)) {
    problems.push(`PBFT needs n = 3f+1 replicas (4, 7, ...), NODES has ${nodes.length}`);
  }
  const busUrl = url('BUS_URL', env.REDIS_URL);
  const storageUrl = url('STORAGE_URL', env.REDIS_URL);
  const electionTicks = int('ELECTION_TICKS', 10, 2, 10_000);
  const heartbeatTicks = int('HEARTBEAT_TICKS', 2, 1, 10_000);
  if (heartbeatTicks >= electionTicks) problems.push('HEARTBEAT_TICKS must be below ELECTION_TICKS');

  const cfg: NodeConfig = {
    cluster,
    nodeId,
    nodes,
    protocol,
    busUrl,
    storageUrl,
    httpPort: int('HTTP_PORT', 0, 0, 65535),
    tickMs: int('TICK_MS', 50, 1, 10_000),
    electionTicks,
    heartbeatTicks,
    beaconMs: int('BEACON_MS', 200, 10, 60_000),
    snapshotEvery: int('SNAPSHOT_EVERY', 10_000, 1, 100_000_000),
    maxEntriesPerMessage: int('MAX_ENTRIES_PER_MESSAGE', 256, 1, 100_000),
    maxBytesPerMessage: int('MAX_BYTES_PER_MESSAGE', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxInflight: int('MAX_INFLIGHT', 64, 1, 10_000),
    keysDir: env.KEYS_DIR || null,
    pbftMaxBatch: int('PBFT_MAX_BATCH', 64, 1, 10_000),
    pbftCheckpointInterval: int('PBFT_CHECKPOINT_INTERVAL', 32, 1, 100_000),
  };
  if (protocol === 'pbft' && !cfg.keysDir) problems.push('KEYS_DIR is required with PROTOCOL=pbft');
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
