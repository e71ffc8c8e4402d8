import type { LedgerHead } from '@app/consensus/ledger';
import type { BeaconLab, BeaconMembers, BeaconPbftLab, BeaconRaftLab, GatewayRequest, MembershipReply, MembershipRequest, PbftRequestBody } from '@app/wire';
import type { LedgerReader } from '../ledger/ledger-reader';

/** What a replica reports about itself (beacons, control status, /metrics). */
export interface RuntimeStatus {
  role: string;
  /** Raft term or PBFT view. */
  term: number;
  leader: string | null;
  commitIndex: number;
  /** Raft: the leader's commitIndex as the current leader last told this replica (null: no leader known). */
  leaderCommit?: number | null;
  appliedIndex: number;
  stableCheckpoint?: number;
  /** PBFT: h, the latest stable checkpoint certified by 2f+1 (its state may still be in transfer). */
  lowWaterMark?: number;
  digest?: string;
  /** The ledger head at the applied index (null: the state predates the ledger). */
  ledger?: LedgerHead | null;
  /** Raft: the latest configuration in this replica's log (discovery). */
  members?: BeaconMembers;
  /**
   * Set when the core reported a condition it cannot leave by itself (a Raft term or PBFT view at
   * its ceiling): one line for operators. The replica is then unready until someone acts.
   */
  fatal?: string;
  counters: Record<string, number>;
}

export interface RuntimeLab {
  log: BeaconLab['log'];
  stateTransfers: number;
  raft?: BeaconRaftLab;
  pbft?: BeaconPbftLab;
  dropped: Record<string, number>;
}

/**
 * One protocol driven with real time, storage and bus. A runtime lives from start() to stop():
 * killing a replica throws the runtime away; reviving builds a new one from storage.
 */
export interface ReplicaRuntime {
  start(): Promise<void>;
  /** Drop all volatile state; no more messages in or out. */
  stop(): void;
  /** A consensus frame from a peer (already filtered for isolation): how many of its messages were dropped. */
  onPeerFrame(from: string, body: unknown): number;
  /** A command or read from a gateway. */
  onClientRequest(from: string, body: GatewayRequest | PbftRequestBody): void;
  status(): RuntimeStatus;
  /** What the fault lab draws (every beacon): the log as a bar, the protocol's state, its drops by reason, the states taken from peers. */
  lab(): RuntimeLab;
  /** The verifiable ledger: blocks and the storage recheck (apps/node/src/ledger). */
  readonly ledger?: LedgerReader;
  /** Raft only: a membership change or a leadership transfer at this replica (it must lead); rejects with a refusal. */
  membership?(req: MembershipRequest): Promise<MembershipReply>;
  /** PBFT only: switch the replica's outgoing behaviour. */
  setByzantine?(behavior: string): void;
}

/** How a runtime talks to the world; the replica service filters for kill/isolation. */
export interface RuntimeIo {
  /** Consensus messages to peers (`to: null` = all of them), one frame per peer: dropped while isolated. */
  sendToPeers(frame: 'raft' | 'pbft', messages: Array<{ to: string | null }>): void;
  /** Replies to gateways: always delivered. */
  reply(to: string, body: unknown): void;
  /** A topic frame to gateways (PBFT replies): always delivered. */
  publish(topic: string, body: unknown): void;
  /** A state change worth an immediate beacon (role, leader, term). */
  changed(): void;
  log(msg: string): void;
  /** A condition an operator must see (error level); restarting would not help. */
  error(msg: string): void;
  /** The runtime cannot go on (see ReadyLoop): the replica restarts it from storage. */
  fatal(err: Error): void;
}
