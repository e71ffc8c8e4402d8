import { BYZANTINE_BEHAVIORS, type ByzantineBehavior } from '../../pbft/byzantine';
import { pick, type Rng } from '../../util/rng';

/** The shape of one PBFT schedule, drawn from its seed before anything runs. */
export interface PbftSimParams {
  /** 3f+1 replicas. */
  replicas: number;
  /** Byzantine replicas (index -> behaviour), at most f. */
  byzantine: Map<number, ByzantineBehavior>;
  checkpointInterval: number;
  logWindow: number;
  maxBatch: number;
  batchTicks: number;
  requestTimeoutTicks: number;
  statusTicks: number;
  clients: number;
  /** Operations each client performs (one at a time). */
  opsPerClient: number;
  keys: number;
  /** A client broadcasts its request to every replica after this many ticks without f+1 matching replies. */
  clientTimeout: number;
  /** Ticks of faults before everything heals. */
  chaosTicks: number;
  /** After healing, every pending request must be accepted within this many ticks... */
  livenessBound: number;
  /** ...and once all are, every correct replica must have executed the same prefix within this many. */
  convergenceBound: number;
}

export function drawPbftParams(rng: Rng): PbftSimParams {
  const replicas = rng.next() < 0.8 ? 4 : 7;
  const f = (replicas - 1) / 3;
  const byzantine = new Map<number, ByzantineBehavior>();
  const r = rng.next();
  const byzCount = r < 0.3 ? 0 : r < 0.85 || f === 1 ? 1 : 2;
  while (byzantine.size < byzCount) {
    // Replica 0 (the first primary) is picked more often: most behaviours matter most at the primary.
    const idx = rng.next() < 0.4 ? 0 : rng.int(0, replicas - 1);
    if (!byzantine.has(idx)) byzantine.set(idx, pick(rng, BYZANTINE_BEHAVIORS));
  }
  const checkpointInterval = pick(rng, [2, 4, 8]);
  const requestTimeoutTicks = pick(rng, [15, 20, 30]);
  const statusTicks = pick(rng, [3, 5, 8]);
  return {
    replicas,
    byzantine,
    checkpointInterval,
    logWindow: checkpointInterval * pick(rng, [2, 3, 4]),
    maxBatch: pick(rng, [1, 2, 4, 8]),
    batchTicks: pick(rng, [0, 0, 1, 2]),
    requestTimeoutTicks,
    statusTicks,
    clients: rng.int(2, 4),
    opsPerClient: rng.int(6, 20),
    keys: rng.int(1, 3),
    clientTimeout: pick(rng, [10, 20, 40]),
    chaosTicks: rng.int(150, 400),
    // Worst case after healing: a view change already backed off to the cap, then a Byzantine
    // next primary, then the correct one; plus state transfer and the client's own retry.
    livenessBound: requestTimeoutTicks * 2 ** 5 * 3 + 400,
    convergenceBound: 60 * statusTicks + 200,
  };
}
