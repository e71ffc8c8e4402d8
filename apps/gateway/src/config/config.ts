import type { Protocol } from '@app/wire';

/** Everything the gateway reads from its environment, resolved and checked. */
export interface GatewayConfig {
  port: number;
  cluster: string;
  /** Redis of the bus (frames, beacons) and of the control plane. */
  busUrl: string;
  /** Redis of the BullMQ command queue. */
  queueUrl: string;
  nodes: string[];
  protocol: Protocol;
  /** null = admin routes are open. */
  adminToken: string | null;
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

type Env = Record<string, string | undefined>;

/** Reads and checks the environment; throws ConfigError listing every bad value at once. */
export function loadConfig(env: Env): GatewayConfig {
  const problems: string[] = [];
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = raw(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return n;
  };
  const redisUrl = (name: string, v: string): string => {
    try {
      const u = new URL(v);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
      if (!u.hostname) throw new Error('host');
    } catch {
      problems.push(`${name} must be a redis:// or rediss:// URL, got ${JSON.stringify(redact(v))}`);
    }
    return v;
  };

  const port = int('PORT', 3000, 0, 65535);

  const cluster = raw('CLUSTER') ?? 'synod';
  if (!NAME.test(cluster)) problems.push(`CLUSTER must be 1-64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(cluster)}`);

  // No localhost default: a gateway silently talking to some other Redis looks healthy and serves nothing.
  let busUrl = '';
  const busRaw = raw('BUS_URL') ?? raw('REDIS_URL');
  if (busRaw === undefined) problems.push('BUS_URL is required (the Redis of the bus, e.g. redis://127.0.0.1:6379); REDIS_URL is used when BUS_URL is unset');
  else busUrl = redisUrl(raw('BUS_URL') ? 'BUS_URL' : 'REDIS_URL', busRaw);
  const queueRaw = raw('QUEUE_URL');
  const queueUrl = queueRaw === undefined ? busUrl : redisUrl('QUEUE_URL', queueRaw);

  let protocol: Protocol = 'raft';
  const protocolRaw = raw('PROTOCOL') ?? 'raft';
  if (protocolRaw === 'raft' || protocolRaw === 'pbft') protocol = protocolRaw;
  else problems.push(`PROTOCOL must be "raft" or "pbft", got ${JSON.stringify(protocolRaw)}`);

  const nodesRaw = raw('NODES') ?? (protocol === 'pbft' ? 'n1,n2,n3,n4' : 'n1,n2,n3');
  const nodes = nodesRaw.split(',').map((s) => s.trim());
  const badIds = nodes.filter((id) => !NODE_ID.test(id));
  const dupIds = nodes.filter((id, i) => nodes.indexOf(id) !== i);
  if (badIds.length > 0) problems.push(`NODES must be a comma list of ids of [A-Za-z0-9_-], got ${JSON.stringify(nodesRaw)}`);
  else if (dupIds.length > 0) problems.push(`NODES lists ${dupIds.join(', ')} more than once`);
  else if (protocol === 'pbft' && nodes.length < 4) problems.push(`PBFT needs at least 4 nodes (n = 3f+1), NODES has ${nodes.length}`);

  const adminToken = raw('ADMIN_TOKEN') ?? null;

  const requestTimeoutMs = int('REQUEST_TIMEOUT_MS', 5000, 10);
  const attemptTimeoutMs = Math.min(int('ATTEMPT_TIMEOUT_MS', 1000, 5), requestTimeoutMs);
  const controlTimeoutMs = int('CONTROL_TIMEOUT_MS', 5000, 10);
  const maxKeyBytes = int('MAX_KEY_BYTES', 1024, 1);
  const maxValueBytes = int('MAX_VALUE_BYTES', 65536, 1);

  const bodyLimit = raw('BODY_LIMIT') ?? '1mb';
  const bodyLimitBytes = parseSize(bodyLimit);
  if (bodyLimitBytes === null || bodyLimitBytes < 1) {
    problems.push(`BODY_LIMIT must be a size like 1mb, 512kb or 100000 (bytes), got ${JSON.stringify(bodyLimit)}`);
  }

  const keysDir = raw('KEYS_DIR') ?? null;
  if (protocol === 'pbft' && !keysDir) problems.push('KEYS_DIR is required with PROTOCOL=pbft (the launcher sets it)');

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    keysDir,
    port,
    cluster,
    busUrl,
    queueUrl,
    nodes,
    protocol,
    adminToken,
    requestTimeoutMs,
    attemptTimeoutMs,
    controlTimeoutMs,
    supervisorTimeoutMs: Math.min(1000, controlTimeoutMs),
    beaconTimeoutMs: 3000,
    maxKeyBytes,
    maxValueBytes,
    bodyLimitBytes: bodyLimitBytes as number,
    bodyLimit,
    maxBatchRequests: 512,
    commandAttempts: 10,
    commandBackoffMs: 250,
  };
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "1mb" / "512kb" / "100" → bytes (binary units, as body-parser counts), or null. */
export function parseSize(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(s.trim());
  if (!m) return null;
  const n = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]);
  return Number.isSafeInteger(n) ? n : null;
}

/** The URL without its password, for logs and messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
