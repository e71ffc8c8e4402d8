/**
 * The contract between gateways and replicas: frame bodies on the bus and the control-plane
 * patterns. Both sides import it; neither imports the other.
 */
import type { KvRequest, KvResult, QueryAnswer } from '@app/consensus/kv';
import { BYZANTINE_BEHAVIORS as CORE_BYZANTINE_BEHAVIORS } from '@app/consensus/pbft/byzantine';

export type Protocol = 'raft' | 'pbft';
export type Consistency = 'linearizable' | 'stale';

// ---- gateway -> replica (direct channel of the replica)

/** Commands to order; each request id is applied at most once. */
export interface ProposeBody {
  t: 'propose';
  corr: string;
  requests: KvRequest[];
}

/**
 * get: one key, as it is or (`revision`) as it was at an older revision. list: `after` = only keys
 * after it (the last key of the page before). changes: the history after revision `after` of one
 * key or of a prefix, about `limit` changes (whole revisions) — what watches are served from.
 */
export type ReadQuery =
  | { op: 'get'; key: string; revision?: number }
  | { op: 'list'; prefix: string; limit: number; after?: string }
  | { op: 'changes'; key?: string; prefix?: string; after: number; limit: number }
  | { op: 'lease'; id: string }
  /** A topic's offsets and groups (QueryAnswer.topic). */
  | { op: 'topic'; topic: string }
  /** Up to `limit` messages of a topic from `from` on, nothing leased (QueryAnswer.messages): tails. */
  | { op: 'topic-read'; topic: string; from: number; limit: number };

/** What a query gives (answered by libs/consensus/src/kv/query.ts). */
export type { QueryAnswer } from '@app/consensus/kv';

export interface ReadBody {
  t: 'read';
  corr: string;
  consistency: Consistency;
  query: ReadQuery;
}

// ---- replica -> gateway (direct channel of the gateway)

export interface ResultBody {
  t: 'result';
  corr: string;
  /** results[i] answers the ProposeBody's requests[i]. */
  results: KvResult[];
}

export interface ReadResultBody extends QueryAnswer {
  t: 'read-result';
  corr: string;
  appliedIndex: number;
}

/**
 * Not served here: try `leader` (when known), or later. Every reason but `abandoned` means the
 * requests never entered the log (nothing was applied); `abandoned` means they did, on a leader that
 * then lost its role or was killed: their fate is unknown until a retry with the same ids answers.
 */
export interface RedirectBody {
  t: 'redirect';
  corr: string;
  leader: string | null;
  reason: 'not-leader' | 'transferring' | 'no-quorum' | 'killed' | 'overloaded' | 'abandoned';
}

export type ReplicaReply = ResultBody | ReadResultBody | RedirectBody;
export type GatewayRequest = ProposeBody | ReadBody;

// ---- PBFT client protocol (gateway <-> replicas). The gateway is a PBFT client with its own
// Ed25519 key: it signs each request, sends it to the primary (to all replicas on a timeout), and
// accepts a result only on f+1 matching signed replies (libs/consensus/src/pbft/client.ts).

/** A signed PBFT client request; `op` is an encoded PbftOp[] (a batch, see below). */
export interface PbftRequestBody {
  t: 'pbft-request';
  request: import('@app/consensus/pbft').ClientRequest;
  /**
   * false: sent to every replica at once, so a backup need not relay it to the primary (absent:
   * true). An unsigned hint: a wrong one costs its own request a view change at most.
   */
  relay?: boolean;
}

/** A replica's signed reply to one request. */
export interface PbftReplyBody {
  t: 'pbft-reply';
  reply: import('@app/consensus/pbft').Reply;
}

/**
 * What a PBFT request orders: a batch of these (one signature and one reply per batch, not per
 * command). Writes go through the KV state machine (exactly-once by request id); reads are
 * ordered too, so a read answered by f+1 matching replies is linearizable.
 */
export type PbftOp = { kind: 'write'; request: KvRequest } | { kind: 'read'; query: ReadQuery };

/** The result of one PbftOp; a request's result bytes encode PbftOpResult[] in batch order. */
/** A read's `revision`: the store's applied revision it was served at. */
export type PbftOpResult = { kind: 'write'; result: KvResult } | ({ kind: 'read'; revision: number } & QueryAnswer) | { kind: 'error'; error: string };

// ---- replica -> topic 'beacons'

export interface Beacon {
  t: 'beacon';
  id: string;
  protocol: Protocol;
  role: string;
  /** Raft term or PBFT view. */
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  alive: boolean;
  isolated: boolean;
  byzantine: string;
  stableCheckpoint?: number;
  digest?: string;
  /** The verifiable ledger's head at the replica's applied index (null: its state predates the ledger). */
  ledger?: import('./ledger').BeaconLedger;
  /**
   * This replica's configuration (discovery: gateways learn the replica set from it). Raft: its
   * latest one. PBFT: the one in force here (voters = its replicas, learners = []), with `pbft`.
   */
  members?: import('./members').BeaconMembers;
  /** The fault lab's figures (lab.ts). */
  lab?: import('./lab').BeaconLab;
  pid: number;
}

export const BEACON_TOPIC = 'beacons';
/** PBFT replies go to a topic per client identity, so whichever gateway holds that key hears them. */
export function pbftReplyTopic(client: string): string {
  return `pbft-replies-${client}`;
}
/** The PBFT client identity of gateways (their key is `<KEYS_DIR>/gateway.key`). */
export const PBFT_CLIENT_ID = 'gateway';
/**
 * The admin principal (`<KEYS_DIR>/admin.key`): the only signer whose PBFT requests may change the
 * replica set (PbftConfig.admin). Gateways hold it as the admin API's signer (ADMIN_TOKEN guards
 * the routes); replicas know its public key only.
 */
export const PBFT_ADMIN_ID = 'admin';
/** The PBFT client id of one gateway process: its own timestamps and replies, the gateways' key. */
export function pbftClientFor(endpoint: string): string {
  return `${PBFT_CLIENT_ID}/${endpoint}`;
}
/** The admin's PBFT client id in one gateway process: its own timestamps and replies, the admin key. */
export function pbftAdminClientFor(endpoint: string): string {
  return `${PBFT_ADMIN_ID}/${endpoint}`;
}
export const BROADCAST_TOPIC = 'broadcast';

// ---- control plane (@nestjs/microservices, Redis transport)

export type ControlAction = 'kill' | 'revive' | 'isolate' | 'heal' | 'status' | 'byzantine' | 'cut' | 'mend';

export interface ControlRequest {
  action: ControlAction;
  behavior?: string;
  /** cut/mend: the peer at the other end of the link. */
  peer?: string;
}

export interface ControlStatus {
  id: string;
  alive: boolean;
  isolated: boolean;
  byzantine: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** Peers whose link to this replica the admin cut. */
  cut?: string[];
  pid: number;
}

/** What a sealed control command carries (libs/bus envelope): `corr` ties the answer to it. */
export interface ControlEnvelopeBody {
  corr: string;
  req: unknown;
}

/** A replica's sealed answer, on `<pattern>.reply`. */
export type ControlReplyBody = { corr: string; status: ControlStatus } | { corr: string; error: string };

/** The replica's answer to a command that failed authentication (not sealed: it carries no state). */
export interface ControlRefusal {
  refused: string;
}

/** The replica's control pattern: one per replica so a message reaches exactly that replica. */
export function controlPattern(cluster: string, node: string): string {
  return `synod.${cluster}.control.${node}`;
}

/**
 * The launcher's supervisor (only when the launcher owns the processes): an HTTP endpoint on
 * loopback, with a bearer token the launcher hands to its gateway (SUPERVISOR_URL, SUPERVISOR_TOKEN).
 * `POST <url>/v1/nodes/<id>/<action>` answers a SupervisorStatus; `GET <url>/v1/nodes` all of them.
 */
/**
 * `join`: start a provisioned spare replica on an empty machine (its storage wiped) to be added to
 * the membership; `retire`: stop a removed replica's process for good.
 */
export const SUPERVISOR_ACTIONS = ['hard-kill', 'respawn', 'storage-kill', 'storage-restart', 'join', 'retire'] as const;
export type SupervisorAction = (typeof SUPERVISOR_ACTIONS)[number];

/** The body of a supervisor action, where it needs one. */
export interface SupervisorActionOptions {
  /** `join` of a PBFT replica: the configuration in force, which the new replica trusts at start (PBFT_CONFIGURATION). */
  pbftConfiguration?: { epoch: number; replicas: string[]; since: number };
}

export interface SupervisorStatus {
  id: string;
  /** Whether the replica's process runs. */
  running: boolean;
  pid: number | null;
  /** Whether its own Redis (storage and inbox) runs; null when it has none (one shared Redis). */
  storageRunning: boolean | null;
  /** Times the supervisor restarted the replica's process after it died unasked. */
  restarts: number;
}

/** What the admin API's `byzantine` switch takes: the core's behaviours, and `none` (correct again). */
export const BYZANTINE_BEHAVIORS = [...CORE_BYZANTINE_BEHAVIORS, 'none'] as const;
export type ByzantineBehavior = (typeof BYZANTINE_BEHAVIORS)[number];
export * from './keys';
export * from './metrics';
export * from './ledger';
export * from './members';
export * from './many';
export * from './lab';
