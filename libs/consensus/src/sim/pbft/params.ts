import { BYZANTINE_BEHAVIORS, PROTOCOL_ATTACKS, type ByzantineBehavior } from '../../pbft/byzantine';
import { pick, type Rng } from '../../util/rng';

/**
 * Behaviours only the simulator can stage. `twins`: two copies of one replica, one identity and
 * one key, each fed part of the messages (Twins, Bano et al. 2022): a faulty replica that says
 * two different things with valid signatures because it really is two replicas.
 */
export const SIM_ONLY_BEHAVIORS = ['twins'] as const;

export type SimByzantineBehavior = ByzantineBehavior | (typeof SIM_ONLY_BEHAVIORS)[number];

/**
 * Which Byzantine replicas a schedule gets. `mixed`: none in a fifth of the schedules (crash
 * faults alone), otherwise up to f drawn from every behaviour, the protocol attacks twice as
 * likely as the output filters. `strong`: always f, protocol attacks and Twins only.
 */
export type PbftAdversary = 'mixed' | 'strong';

export const PBFT_ADVERSARIES: readonly PbftAdversary[] = ['mixed', 'strong'];

/** The mixed pool (a behaviour listed twice is drawn twice as often). */
export const MIXED_POOL: readonly SimByzantineBehavior[] = [...BYZANTINE_BEHAVIORS, ...PROTOCOL_ATTACKS, ...SIM_ONLY_BEHAVIORS];
/**
 * The strong pool: the view-change forgers weigh more (forge-new-view acts only while its replica
 * is a new primary, so it needs the most draws to matter).
 */
export const STRONG_POOL: readonly SimByzantineBehavior[] = [
  ...PROTOCOL_ATTACKS,
  ...SIM_ONLY_BEHAVIORS,
  'forge-new-view',
  'forge-new-view',
  'forge-view-change',
];

export function poolOf(adversary: PbftAdversary): readonly SimByzantineBehavior[] {
  return adversary === 'strong' ? STRONG_POOL : MIXED_POOL;
}

/** The shape of one PBFT schedule, drawn from its seed before anything runs. */
export interface PbftSimParams {
  /** 3f+1 replicas. */
  replicas: number;
  adversary: PbftAdversary;
  /** Byzantine replicas (index -> behaviour), at most f. The nemesis may switch a behaviour mid-schedule (not Twins). */
  byzantine: Map<number, SimByzantineBehavior>;
  checkpointInterval: number;
  logWindow: number;
  maxBatch: number;
  batchTicks: number;
  /** The primary's pipeline (PbftConfig.maxInflightBatches); 1000 is in effect none. */
  maxInflightBatches: number;
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
  /** The nemesis also changes the replica set (an admin principal is configured): grow, shrink, replace. */
  reconfigure: boolean;
  /** Replica ids beyond the first `replicas` that reconfigurations may add. */
  spares: number;
}

export function drawPbftParams(rng: Rng, adversary: PbftAdversary = 'mixed'): PbftSimParams {
  const replicas = rng.next() < 0.8 ? 4 : 7;
  const f = (replicas - 1) / 3;
  const byzantine = new Map<number, SimByzantineBehavior>();
  const r = rng.next();
  const byzCount = adversary === 'strong' ? f : r < 0.2 ? 0 : r < 0.85 || f === 1 ? 1 : 2;
  const pool = poolOf(adversary);
  while (byzantine.size < byzCount) {
    // Replica 0 (the first primary) and replica 1 (the first new primary) are picked more often:
    // most behaviours matter most at a primary, the new-view ones at the next one.
    const x = rng.next();
    const [at0, at1] = adversary === 'strong' ? [0.2, 0.6] : [0.3, 0.5];
    const idx = x < at0 ? 0 : x < at1 ? 1 : rng.int(0, replicas - 1);
    if (!byzantine.has(idx)) byzantine.set(idx, pick(rng, pool));
  }
  const checkpointInterval = pick(rng, [2, 4, 8]);
  const requestTimeoutTicks = pick(rng, [15, 20, 30]);
  const statusTicks = pick(rng, [3, 5, 8]);
  return {
    replicas,
    adversary,
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
    maxInflightBatches: pick(rng, [1, 2, 4, 1000]),
    // Drawn last: the draws above (and so every schedule from before reconfiguration) stay as they were.
    reconfigure: rng.next() < 0.35,
    spares: 3,
  };
}
