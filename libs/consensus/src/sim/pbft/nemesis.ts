import type { ReplicaId } from '../../pbft/types';
import { pick, type Rng, shuffled } from '../../util/rng';
import type { LinkConditions, VirtualNetwork } from '../network';
import { poolOf, type PbftAdversary, type SimByzantineBehavior } from './params';

/** Where, inside the handling of one Ready, an armed crash strikes. */
export type CrashStage =
  | 'before-persist' // the Ready was taken, nothing of it stored or sent
  | 'before-send' // stored, nothing sent
  | 'mid-send'; // stored, some messages sent

export const CRASH_STAGES: readonly CrashStage[] = ['before-persist', 'before-send', 'mid-send'];

/** What the nemesis may do to a cluster. */
export interface PbftNemesisControl {
  readonly now: number;
  readonly ids: readonly ReplicaId[];
  readonly net: VirtualNetwork<unknown>;
  /** The primary of the highest view a live replica is in. */
  primary(): ReplicaId;
  isAlive(id: ReplicaId): boolean;
  /** Byzantine replicas are never crashed: they already do as they please. */
  isCorrect(id: ReplicaId): boolean;
  crash(id: ReplicaId, restartAfter: number): void;
  armCrash(id: ReplicaId, stage: CrashStage, restartAfter: number): void;
  healNetworkAfter(ticks: number): void;
  /** Byzantine replicas whose behaviour may change (Twins stay Twins: their second copy has a state of its own). */
  switchable(): ReplicaId[];
  /** A Byzantine replica changes behaviour (what it learnt so far is lost with the old one). */
  switchByzantine(id: ReplicaId, behavior: SimByzantineBehavior): void;
  /** The replicas of the configuration in force (the crash budget is its f). */
  members(): ReplicaId[];
  /** The admin asks for a new replica set (grow, shrink, replace), if no change is under way. */
  reconfigure(): void;
  note(line: string): void;
}

/** Mostly quick restarts (a process respawn), sometimes long outages (state transfer on return). */
function restartDelay(rng: Rng): number {
  const r = rng.next();
  if (r < 0.5) return 0.5 + rng.next() * 3;
  if (r < 0.8) return 5 + rng.next() * 25;
  return 40 + rng.next() * 100;
}

export function randomWeather(rng: Rng): LinkConditions {
  const minDelay = 0.05 + rng.next() * 0.5;
  return {
    minDelay,
    maxDelay: minDelay + 0.2 + rng.next() * pick(rng, [0.5, 1, 3]),
    dropRate: pick(rng, [0, 0, 0.02, 0.1, 0.25]),
    duplicateRate: pick(rng, [0, 0, 0.05, 0.2]),
    longDelayRate: pick(rng, [0, 0, 0.03, 0.1]),
    longDelay: 5 + rng.next() * 20,
  };
}

type Fault = (ctl: PbftNemesisControl, rng: Rng) => void;

/** One Byzantine replica changes strategy mid-schedule (to another from the schedule's pool, never to Twins). */
const switchStrategy =
  (adversary: PbftAdversary): Fault =>
  (ctl, rng) => {
    const ids = ctl.switchable();
    if (ids.length === 0) return;
    const pool = poolOf(adversary).filter((b) => b !== 'twins');
    ctl.switchByzantine(pick(rng, ids), pick(rng, pool));
  };

/** At most f+1 correct replicas down at once (more stops progress for the whole outage). */
function mayCrash(ctl: PbftNemesisControl, id: ReplicaId): boolean {
  if (!ctl.isAlive(id) || !ctl.isCorrect(id)) return false;
  const members = ctl.members();
  const f = Math.floor((members.length - 1) / 3);
  return members.filter((x) => !ctl.isAlive(x)).length < f + 1;
}

const crashNow =
  (target: (ctl: PbftNemesisControl, rng: Rng) => ReplicaId): Fault =>
  (ctl, rng) => {
    const id = target(ctl, rng);
    if (mayCrash(ctl, id)) ctl.crash(id, restartDelay(rng));
  };

const armed =
  (target: (ctl: PbftNemesisControl, rng: Rng) => ReplicaId): Fault =>
  (ctl, rng) => {
    const id = target(ctl, rng);
    if (mayCrash(ctl, id)) ctl.armCrash(id, pick(rng, CRASH_STAGES), restartDelay(rng));
  };

const anyReplica = (ctl: PbftNemesisControl, rng: Rng): ReplicaId => pick(rng, ctl.ids);
const thePrimary = (ctl: PbftNemesisControl): ReplicaId => ctl.primary();

const partition: Fault = (ctl, rng) => {
  const ids = shuffled(ctl.ids, rng);
  const cut = rng.int(1, ids.length - 1);
  const groups = [ids.slice(0, cut), ids.slice(cut)];
  // Clients sit on one side or the other.
  for (const n of ctl.net.nodes) if (!ctl.ids.includes(n)) groups[rng.int(0, 1)].push(n);
  ctl.net.heal();
  ctl.net.partition(groups);
  ctl.note(`partition ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(5, 60));
};

const isolate =
  (target: (ctl: PbftNemesisControl, rng: Rng) => ReplicaId): Fault =>
  (ctl, rng) => {
    const id = target(ctl, rng);
    ctl.net.isolate(id);
    ctl.note(`isolate ${id}: ${ctl.net.describe()}`);
    ctl.healNetworkAfter(rng.int(5, 80));
  };

const weather: Fault = (ctl, rng) => {
  const c = (ctl.net.conditions = randomWeather(rng));
  ctl.note(`weather delay=${c.minDelay.toFixed(2)}..${c.maxDelay.toFixed(2)} drop=${c.dropRate} dup=${c.duplicateRate} late=${c.longDelayRate}`);
};

/** The faults and their weights; switching strategy weighs more against the strong adversary. */
const reconfigure: Fault = (ctl) => ctl.reconfigure();

const faultsOf = (adversary: PbftAdversary, reconfigures: boolean): [Fault, number][] => [
  ...(reconfigures ? ([[reconfigure, 3]] as [Fault, number][]) : []),
  [() => undefined, 3],
  [crashNow(anyReplica), 2],
  [crashNow(thePrimary), 2],
  [armed(anyReplica), 2],
  [armed(thePrimary), 2],
  [partition, 1],
  [isolate(thePrimary), 2],
  [isolate(anyReplica), 1],
  [weather, 2],
  [switchStrategy(adversary), adversary === 'strong' ? 3 : 1],
];

/** Draws one fault every few ticks until the chaos period ends. */
export class PbftNemesis {
  private readonly faults: [Fault, number][];

  constructor(
    private readonly rng: Rng,
    adversary: PbftAdversary = 'mixed',
    reconfigures = false,
  ) {
    this.faults = faultsOf(adversary, reconfigures);
  }

  /** Acts once; returns the ticks until the next action. */
  step(ctl: PbftNemesisControl): number {
    let r = this.rng.next() * this.faults.reduce((s, [, w]) => s + w, 0);
    const fault = this.faults.find(([, w]) => (r -= w) < 0)?.[0] ?? this.faults[0][0];
    fault(ctl, this.rng);
    return 3 + this.rng.next() * 25;
  }
}
