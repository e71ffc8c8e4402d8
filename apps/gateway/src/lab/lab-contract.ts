import type { BeaconLab, BeaconPbftLab, BeaconRaftLab } from '@app/wire';

/**
 * The fault lab's wire contract (issue 15): what the gateway streams to the page.
 *
 *   GET /v1/lab/events   text/event-stream:
 *     event: hello   data: LabHello    once, first (the recent timeline and chart series included)
 *     event: state   data: LabState    at most every STATE_EVERY_MS
 *     event: event   data: LabEvent    each timeline event as it happens
 *   GET /v1/lab/state    the LabHello of now, as JSON (tests, scripts)
 *
 * The gateway knows the cluster from beacons only (DESIGN.md): every figure here is derived from
 * them, from the gateway's own requests (latency) and from the admin actions it carried out.
 */

export const STATE_EVERY_MS = 250;
/** How far back the throughput and latency charts go. */
export const SERIES_SECONDS = 300;
/** Timeline events the gateway keeps for a page that connects (the page keeps what it received). */
export const TIMELINE_KEEP = 2000;

export type LabEventKind =
  // elections and views
  | 'election-started' // a Raft candidate asks for votes (term)
  | 'vote' // a Raft replica voted for a candidate (term)
  | 'elected' // a leader (Raft) / primary (PBFT) took office (term/view, votes)
  | 'leader-lost' // no leader/primary known any more
  | 'view-change' // PBFT: a replica moved to view-changing (to, from: the VIEW-CHANGE senders it holds)
  | 'new-view' // PBFT: a replica entered a new view
  // log
  | 'snapshot' // Raft: a replica compacted its log at an index
  | 'checkpoint' // PBFT: a replica's stable checkpoint advanced
  | 'state-transfer' // a replica took a snapshot/state from a peer (its log jumped)
  // faults, seen in the beacons
  | 'killed'
  | 'revived'
  | 'isolated'
  | 'healed'
  | 'link-cut'
  | 'link-healed'
  | 'byzantine' // a replica's behaviour changed ("none" when healed)
  | 'drops' // a replica dropped frames (reason, count) since the last report
  // what people and scripts did
  | 'admin' // an admin action this gateway carried out (action, node, status)
  | 'scenario'; // a scenario run started, ran a step, or finished

export interface LabEvent {
  /** Increasing per gateway process: a page that reconnects skips what it has. */
  seq: number;
  /** ms since the epoch, at the gateway. */
  at: number;
  kind: LabEventKind;
  /** The replica it is about, when one. */
  node?: string;
  /** Raft term or PBFT view, when it has one. */
  term?: number;
  /** One line for people. */
  text: string;
  /** Where it came from: the replicas' beacons, an admin action, a scenario run. */
  source: 'cluster' | 'admin' | 'scenario';
  /** Kind-specific details (votes, reason, counts, link peers, scenario run id...). */
  data?: Record<string, unknown>;
}

/** Raft: last index, commitIndex, lastApplied, snapshot index; PBFT: the stable checkpoint as the snapshot. */
export type LabLog = BeaconLab['log'];

export interface LabNode {
  id: string;
  /** leader/follower/candidate/learner (Raft), primary/backup/view-changing/non-member (PBFT), dead, unknown. */
  role: string;
  /** voter / learner: a member; spare: a provisioned identity outside the configuration. */
  membership: 'voter' | 'learner' | 'spare';
  alive: boolean;
  isolated: boolean;
  byzantine: string;
  /** Raft term or PBFT view, as last reported. */
  term: number;
  /** ms since its last beacon; null: never heard. */
  lastSeenMs: number | null;
  log: LabLog;
  raft?: BeaconRaftLab;
  pbft?: BeaconPbftLab;
  /** Drops since its process started, by reason, and their rate (per second) now. */
  dropped: Record<string, number>;
  droppedTotal: number;
  dropRate: number;
}

/** A pair of replicas, a < b. */
export interface LabLink {
  a: string;
  b: string;
  /** The admin cut it, or one side is isolated. */
  cut: boolean;
  /** Messages per second by type, both directions together. */
  rate: Record<string, number>;
  /** Frames per second dropped on it, both directions. */
  dropRate: number;
}

export interface LabSample {
  at: number;
  /** Entries committed per second (the leader's/primary's commit index). */
  commits: number;
  /** Requests per second this gateway process answered, and their latency. */
  requests: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface LabState {
  at: number;
  leader: string | null;
  term: number;
  nodes: LabNode[];
  links: LabLink[];
  sample: LabSample;
}

export interface LabScenarioInfo {
  name: string;
  title: string;
  description: string;
  /** Which protocols it applies to. */
  protocols: Array<'raft' | 'pbft'>;
}

export interface LabHello {
  protocol: 'raft' | 'pbft';
  cluster: string;
  /** Replicas needed to order anything now. */
  quorum: number;
  /** Byzantine behaviours a PBFT replica can be switched to ("none" first); [] for Raft. */
  behaviors: string[];
  /** Whether the launcher's supervisor is configured: hard kill and storage kill/restart exist. */
  supervisor: boolean;
  /** Whether admin routes need a bearer token (ADMIN_TOKEN set). */
  adminToken: boolean;
  scenarios: LabScenarioInfo[];
  state: LabState;
  timeline: LabEvent[];
  series: LabSample[];
}
