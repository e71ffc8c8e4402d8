import type { Message, NodeId } from '../../raft/types';
import type { Rng } from '../../util/rng';
import type { LinkConditions, VirtualNetwork } from '../network';

/** Where, inside the handling of one Ready, a crash strikes. */
export type CrashStage =
  | 'before-persist' // the Ready was taken, nothing of it stored
  | 'mid-persist' // snapshot stored, hard state and entries not
  | 'before-send' // stored, no message out
  | 'mid-send' // some messages out
  | 'mid-apply' // some committed entries applied
  | 'before-advance'; // all done but advance()

/** Which Ready an armed crash waits for. */
export type CrashTrigger =
  | 'persist' // any Ready that stores something
  | 'entries' // a Ready that stores new entries (a leader that just appended)
  | 'vote' // a Ready that grants a vote
  | 'commit'; // a Ready that applies newly committed entries

export const CRASH_STAGES: readonly CrashStage[] = ['before-persist', 'mid-persist', 'before-send', 'mid-send', 'mid-apply', 'before-advance'];

/** What the nemesis may do to a cluster. */
export interface NemesisControl {
  readonly now: number;
  readonly ids: readonly NodeId[];
  readonly net: VirtualNetwork<Message>;
  leader(): NodeId | null;
  isAlive(id: NodeId): boolean;
  crash(id: NodeId, restartAfter: number): void;
  armCrash(id: NodeId, stage: CrashStage, trigger: CrashTrigger, restartAfter: number): void;
  transfer(from: NodeId, to: NodeId): void;
  compact(id: NodeId): void;
  /** For `ticks`, every node that becomes leader is armed to crash soon after. */
  leaderChurn(ticks: number): void;
  /** Heals the network after `ticks`, unless another partition comes first. */
  healNetworkAfter(ticks: number): void;
  note(line: string): void;
}

type Action = (ctl: NemesisControl, rng: Rng) => void;

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length - 1)];
}

/** Mostly quick restarts (a process respawn), sometimes long outages. */
function restartDelay(rng: Rng): number {
  const r = rng.next();
  if (r < 0.5) return 0.5 + rng.next() * 2.5;
  if (r < 0.8) return 3 + rng.next() * 12;
  return 15 + rng.next() * 35;
}

function downCount(ctl: NemesisControl): number {
  return ctl.ids.filter((id) => !ctl.isAlive(id)).length;
}

/** Crashes need someone left to make progress later; never take the last node down. */
function mayCrash(ctl: NemesisControl, id: NodeId | null): id is NodeId {
  return id !== null && ctl.isAlive(id) && downCount(ctl) < ctl.ids.length - 1;
}

function randomNode(ctl: NemesisControl, rng: Rng): NodeId {
  return pick(rng, ctl.ids);
}

function others(ctl: NemesisControl, id: NodeId): NodeId[] {
  return ctl.ids.filter((x) => x !== id);
}

/** The leader dies: now, or in the middle of its next Ready — often one that appended entries,
 * which leaves entries on some followers only (the raw material of Figure 8). */
const crashLeader: Action = (ctl, rng) => {
  const id = ctl.leader() ?? randomNode(ctl, rng);
  if (!mayCrash(ctl, id)) return;
  const after = restartDelay(rng);
  if (rng.next() < 0.3) ctl.crash(id, after);
  else ctl.armCrash(id, pick(rng, CRASH_STAGES), rng.next() < 0.6 ? 'entries' : 'persist', after);
};

const crashAny: Action = (ctl, rng) => {
  const id = randomNode(ctl, rng);
  if (!mayCrash(ctl, id)) return;
  const after = restartDelay(rng);
  if (rng.next() < 0.4) ctl.crash(id, after);
  else ctl.armCrash(id, pick(rng, CRASH_STAGES), 'persist', after);
};

/** A voter dies right after granting a vote and comes back at once: its vote must survive. */
const crashVoter: Action = (ctl, rng) => {
  const leader = ctl.leader();
  const candidates = ctl.ids.filter((id) => id !== leader);
  const n = rng.int(1, 2);
  for (let k = 0; k < n; k++) {
    const id = pick(rng, candidates);
    if (!mayCrash(ctl, id)) continue;
    ctl.armCrash(id, pick(rng, ['mid-send', 'mid-apply', 'before-advance'] as const), 'vote', 0.2 + rng.next() * 2);
  }
};

/**
 * Leaders that die young, one after another: each new leader crashes right after appending (its
 * no-op or a command) or right after committing. Leaves entries of several terms on different
 * minorities — Figure 8's setting.
 */
const churn: Action = (ctl, rng) => {
  ctl.leaderChurn(rng.int(20, 80));
};

/** A victim of churn: crash points that leave a leader's entries partially replicated. */
export function churnCrash(rng: Rng): { stage: CrashStage; trigger: CrashTrigger; restartAfter: number } {
  return {
    stage: pick(rng, ['before-send', 'mid-send', 'mid-send', 'before-advance'] as const),
    trigger: rng.next() < 0.5 ? 'entries' : 'commit',
    restartAfter: 0.5 + rng.next() * 6,
  };
}

/**
 * Two sides that cannot hear each other and a bridge that hears both (Jepsen's bridge): both
 * sides elect, and the bridge votes for each in turn.
 */
const bridge: Action = (ctl, rng) => {
  const ids = shuffled(ctl.ids, rng);
  const b = ids.pop()!;
  const cut = rng.int(1, ids.length - 1);
  const left = ids.slice(0, cut);
  const right = ids.slice(cut);
  for (const x of left) {
    for (const y of right) {
      ctl.net.cut(x, y);
      ctl.net.cut(y, x);
    }
  }
  ctl.note(`bridge ${b} between ${left.join(',')} and ${right.join(',')}`);
  ctl.healNetworkAfter(rng.int(10, 60));
};

function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const ys = [...xs];
  for (let i = ys.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [ys[i], ys[j]] = [ys[j], ys[i]];
  }
  return ys;
}

const partition: Action = (ctl, rng) => {
  const ids = shuffled(ctl.ids, rng);
  const cut = rng.int(1, ids.length - 1);
  ctl.net.partition([ids.slice(0, cut), ids.slice(cut)]);
  ctl.note(`partition ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(5, 60));
};

const isolateLeader: Action = (ctl, rng) => {
  const id = ctl.leader() ?? randomNode(ctl, rng);
  ctl.net.isolate(id);
  ctl.note(`isolate ${id}: ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(3, 40));
};

/** Asymmetric links: a leader that can send but not hear (check-quorum), or the reverse. */
const oneWay: Action = (ctl, rng) => {
  const a = ctl.leader() ?? randomNode(ctl, rng);
  for (const b of others(ctl, a)) {
    if (rng.next() < 0.6) {
      if (rng.next() < 0.5) ctl.net.cut(a, b);
      else ctl.net.cut(b, a);
    }
  }
  ctl.note(`one-way cuts: ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(5, 30));
};

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

const weather: Action = (ctl, rng) => {
  ctl.net.conditions = randomWeather(rng);
  const c = ctl.net.conditions;
  ctl.note(
    `weather delay=${c.minDelay.toFixed(2)}..${c.maxDelay.toFixed(2)} drop=${c.dropRate} dup=${c.duplicateRate} late=${c.longDelayRate}`,
  );
};

const transfer: Action = (ctl, rng) => {
  const l = ctl.leader();
  if (l === null) return;
  ctl.transfer(l, pick(rng, others(ctl, l)));
};

const compact: Action = (ctl, rng) => {
  const id = randomNode(ctl, rng);
  if (ctl.isAlive(id)) ctl.compact(id);
};

const ACTIONS: readonly [Action, number][] = [
  [crashLeader, 5],
  [crashAny, 2],
  [crashVoter, 3],
  [churn, 2],
  [bridge, 1],
  [partition, 3],
  [isolateLeader, 3],
  [oneWay, 1],
  [weather, 2],
  [transfer, 2],
  [compact, 1],
];
const TOTAL = ACTIONS.reduce((s, [, w]) => s + w, 0);

/** One fault, drawn by weight; returns the ticks until the next one. */
export function nemesisStep(ctl: NemesisControl, rng: Rng): number {
  let r = rng.next() * TOTAL;
  for (const [act, w] of ACTIONS) {
    r -= w;
    if (r < 0) {
      act(ctl, rng);
      break;
    }
  }
  return 1 + rng.next() * 14;
}
