/**
 * What a replica tells the fault lab (issue 15) in every beacon: its log as a bar, the protocol's
 * own state, and what it sent, received and dropped per peer. Link counters, bus drops and state
 * transfers are cumulative since the replica's process started; the protocol core's own drop
 * counts start again when it is revived (a new runtime). The gateway turns differences into rates.
 */
export interface BeaconLab {
  /** The log as a bar. Raft: last index, commitIndex, lastApplied, snapshot index. PBFT: the highest sequence number holding a pre-prepare, last executed (twice), stable checkpoint. */
  log: { last: number; commit: number; applied: number; snapshot: number };
  /** States this replica took from a peer since its process started (Raft: snapshots installed from the leader; PBFT: state transfers, and its own state at start). */
  stateTransfers: number;
  raft?: BeaconRaftLab;
  pbft?: BeaconPbftLab;
  /** Per peer: frames by message type, sent and received, and frames dropped on this link by reason. */
  links: Record<string, LinkCounters>;
  /** Every frame or message this replica dropped, by reason (link drops, bus drops, the protocol core's own checks). */
  dropped: Record<string, number>;
  /** Peers whose link to this replica the admin cut (a partition between two replicas). */
  cut: string[];
}

export interface LinkCounters {
  sent: Record<string, number>;
  recv: Record<string, number>;
  dropped: Record<string, number>;
}

export interface BeaconRaftLab {
  votedFor: string | null;
  /** A candidate's (or this term's leader's) granted votes, itself included. */
  votes: string[];
  /** The leader's view of each follower (Figure 2's matchIndex / nextIndex), empty elsewhere. */
  progress: Record<string, { match: number; next: number; state: string }>;
}

export interface BeaconPbftLab {
  primary: string | null;
  viewChanging: boolean;
  /** Water marks: h (the stable checkpoint) and H = h + L. */
  low: number;
  high: number;
  /** The latest sequence numbers in the log: [seq, prepares held, commits held, committed-local (1) or not (0)]. */
  slots: Array<[number, number, number, number]>;
  /** The view this replica is changing to and who asked for it (the VIEW-CHANGE messages it holds), while changing. */
  viewChange?: { to: number; from: string[] };
}
