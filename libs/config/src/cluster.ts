import type { Protocol } from '@app/wire';

/** Key-file principals that are not replicas (libs/wire: PBFT_CLIENT_ID and PBFT_ADMIN_ID): no replica may take their names. */
const RESERVED_PRINCIPALS = ['gateway', 'admin'] as const;
import { id, nodeList, oneOf, optionalText, protocol, redisUrl, routes, type Report } from './pieces';

/** The variables every member of a cluster reads (replica and gateway alike). */
export const clusterShape = {
  CLUSTER: id('synod'),
  NODES: nodeList(),
  /**
   * The initial configuration, a subset of NODES (default: all of them); the rest are spares to add
   * at runtime. Raft: its voters. PBFT: its replicas (n = 3f+1), epoch 0 of the reconfiguration chain.
   */
  VOTERS: nodeList(),
  PROTOCOL: protocol(),
  /** The key files (libs/wire/src/keys.ts): the bus's frame keys, and PBFT's signing keys. */
  KEYS_DIR: optionalText(),
  /** `off-test-only` accepts unauthenticated bus frames: the attack tests' canary, refused outside NODE_ENV=test. */
  BUS_AUTH: oneOf(['on', 'off-test-only'], 'on'),
  NODE_ENV: optionalText(),
};

/** Where the replicas' inboxes live: one Redis for all, or each replica's own "home". */
export const busShape = {
  BUS_URL: redisUrl(),
  BUS_URLS: routes(),
  /** The fallback for every Redis URL that is unset. */
  REDIS_URL: redisUrl(),
};

interface ClusterVars {
  NODES: string[] | undefined;
  VOTERS: string[] | undefined;
  PROTOCOL: Protocol;
  KEYS_DIR: string | null;
  BUS_AUTH: 'on' | 'off-test-only';
  NODE_ENV: string | null;
}

interface BusVars {
  BUS_URL: string | undefined;
  BUS_URLS: Record<string, string> | undefined;
  REDIS_URL: string | undefined;
}

export const ignore: Report = () => undefined;

/** NODES, or the default cluster of the protocol: 3 Raft replicas, 4 PBFT replicas (f = 1). */
export function clusterNodes(v: ClusterVars): string[] {
  return v.NODES ?? (v.PROTOCOL === 'pbft' ? ['n1', 'n2', 'n3', 'n4'] : ['n1', 'n2', 'n3']);
}

/** The initial configuration: Raft's voters, PBFT's replicas (VOTERS, default every node). */
export function clusterVoters(v: ClusterVars): string[] {
  return v.VOTERS ?? clusterNodes(v);
}

/** The rules a cluster obeys whoever reads it. */
export function checkCluster(v: ClusterVars, bad: Report): void {
  const n = clusterNodes(v).length;
  if (v.VOTERS !== undefined) {
    const strangers = v.VOTERS.filter((id) => !clusterNodes(v).includes(id));
    if (strangers.length > 0) bad(`VOTERS names ${strangers.join(', ')}, not in NODES (${clusterNodes(v).join(',')})`);
  }
  const reserved = clusterNodes(v).filter((id) => (RESERVED_PRINCIPALS as readonly string[]).includes(id));
  if (reserved.length > 0) bad(`NODES names ${reserved.join(', ')}: reserved for the ${RESERVED_PRINCIPALS.join(' and ')} principals' keys`);
  // PBFT: the initial configuration is n = 3f+1; NODES may hold any number of spares beyond it
  // (reconfiguration keeps every later configuration at 3f+1 too).
  const voters = clusterVoters(v).length;
  const where = v.VOTERS !== undefined ? `VOTERS has ${voters}` : `NODES has ${n}`;
  if (v.PROTOCOL === 'pbft' && (voters < 4 || (voters - 1) % 3 !== 0)) bad(`PBFT needs n = 3f+1 replicas (4, 7, ...), ${where}`);
  if (!v.KEYS_DIR) bad("KEYS_DIR is required: every bus frame is authenticated with the keys there (the launcher and compose's keys job create them)");
  if (v.BUS_AUTH !== 'on' && v.NODE_ENV !== 'test')
    bad(`BUS_AUTH=${v.BUS_AUTH} switches frame authentication off and exists for the test suite only (NODE_ENV=test)`);
}

/**
 * Every node's bus home: BUS_URLS as given, or BUS_URL (else REDIS_URL) for all. {} when there is
 * none, after reporting it. `single` is the one URL when one was given for all, else null.
 */
export function busRoutes(v: BusVars, nodes: string[], bad: Report): { routes: Record<string, string>; single: string | null } {
  if (v.BUS_URLS !== undefined) {
    if (v.BUS_URL !== undefined) bad('BUS_URL and BUS_URLS are both set; set BUS_URL (one Redis for every inbox) or BUS_URLS (a home per node), not both');
    const missing = nodes.filter((n) => !(n in v.BUS_URLS!));
    const strangers = Object.keys(v.BUS_URLS).filter((n) => !nodes.includes(n));
    if (missing.length > 0) bad(`BUS_URLS has no URL for ${missing.join(', ')} (every node in NODES needs its home Redis)`);
    if (strangers.length > 0) bad(`BUS_URLS names ${strangers.join(', ')}, not in NODES (${nodes.join(',')})`);
    return { routes: { ...v.BUS_URLS }, single: null };
  }
  const single = v.BUS_URL ?? v.REDIS_URL;
  // No localhost default: a process silently talking to some other Redis looks healthy and serves nothing.
  if (single === undefined) {
    bad(
      'BUS_URL is required (the Redis of the bus, e.g. redis://127.0.0.1:6379), or BUS_URLS (n1=redis://…,n2=…, a home Redis per node); REDIS_URL is used when both are unset',
    );
    return { routes: {}, single: null };
  }
  return { routes: Object.fromEntries(nodes.map((n) => [n, single])), single };
}
