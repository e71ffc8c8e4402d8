import { pick, type Rng } from '../../util/rng';

/** The shape of one schedule, drawn from its seed before anything runs. */
export interface RaftSimParams {
  /** The initial voters. */
  nodes: number;
  /** Servers beyond them, started empty: the membership episodes add, promote, demote and remove them. */
  spares: number;
  preVote: boolean;
  checkQuorum: boolean;
  electionTick: number;
  heartbeatTick: number;
  maxEntriesPerMessage: number;
  maxInflight: number;
  clients: number;
  keys: number;
  /** Share of client operations that are linearizable reads (the rest are writes). */
  readShare: number;
  /** Applied entries between two snapshots of one replica. */
  snapshotEvery: number;
  /** Ticks of faults before everything heals. */
  chaosTicks: number;
  /** After healing: a leader must exist within this many ticks... */
  leaderBound: number;
  /** ...and every pending command must be answered and every replica caught up within this many. */
  livenessBound: number;
  /** A client retries (same request id) after this many ticks without an answer. */
  clientTimeout: number;
}

export function drawParams(rng: Rng): RaftSimParams {
  const electionTick = pick(rng, [4, 5, 6, 8, 10]);
  return {
    nodes: rng.next() < 0.5 ? 3 : 5,
    preVote: rng.next() < 0.5,
    checkQuorum: rng.next() < 0.5,
    electionTick,
    heartbeatTick: pick(rng, [1, 2]),
    // One entry per message splits a leader's catch-up into steps, which Figure 8 needs.
    maxEntriesPerMessage: pick(rng, [1, 1, 2, 3, 64]),
    maxInflight: pick(rng, [1, 4, 16]),
    clients: rng.int(2, 5),
    keys: rng.int(2, 5),
    readShare: 0.3,
    snapshotEvery: pick(rng, [5, 10, 25]),
    chaosTicks: rng.int(300, 700),
    leaderBound: 15 * electionTick,
    livenessBound: 30 * electionTick,
    clientTimeout: 3 * electionTick,
    // Drawn last, so that the draws above stay what each seed always drew.
    spares: rng.int(0, 2),
  };
}
