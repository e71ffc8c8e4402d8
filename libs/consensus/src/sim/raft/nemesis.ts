import type { ConfChange } from '../../raft/configuration';
import type { Configuration, Message, NodeId } from '../../raft/types';
import { pick, type Rng, shuffled } from '../../util/rng';
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
  disarmAll(): void;
  transfer(from: NodeId, to: NodeId): void;
  compact(id: NodeId): void;
  /** Until `until`, every node that becomes leader is armed to crash soon after (see churnCrash). */
  leaderChurn(until: number): void;
  /** Until `until`, a node that grants a vote crashes right after (probability p) and restarts at once. */
  voterCrashes(until: number, p: number): void;
  /** Heals the network after `ticks`, unless another partition comes first. */
  healNetworkAfter(ticks: number): void;
  /** The leader's configuration and whether it is committed; null without a leader. */
  configuration(): { configuration: Configuration; committed: boolean } | null;
  /** Proposes the changes at the leader (it may refuse: one change in flight, a learner behind...). */
  reconfigure(changes: ConfChange[]): void;
  /** Replaces the server's machine by an empty one (before it is added back). */
  replace(id: NodeId): void;
  note(line: string): void;
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

/** Never take the last node down: someone must be left to make progress. */
function mayCrash(ctl: NemesisControl, id: NodeId | null): id is NodeId {
  return id !== null && ctl.isAlive(id) && downCount(ctl) < ctl.ids.length - 1;
}

function others(ctl: NemesisControl, id: NodeId): NodeId[] {
  return ctl.ids.filter((x) => x !== id);
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

/** A victim of leader churn: crash points that leave a leader's entries partially replicated. */
export function churnCrash(rng: Rng): { stage: CrashStage; trigger: CrashTrigger; restartAfter: number } {
  return {
    stage: pick(rng, ['before-send', 'before-send', 'before-send', 'mid-send'] as const),
    trigger: rng.next() < 0.5 ? 'entries' : 'commit',
    restartAfter: 0.5 + rng.next() * 4,
  };
}

/** A voter that crashes after its vote went out, and restarts quickly (before the election is over). */
export function voterCrash(rng: Rng): { stage: CrashStage; restartAfter: number } {
  return { stage: pick(rng, ['mid-apply', 'before-advance'] as const), restartAfter: 0.1 + rng.next() * 1.5 };
}

// ------------------------------------------------------------------ single faults

type Fault = (ctl: NemesisControl, rng: Rng) => void;

/** The leader dies: now, or inside its next Ready — often one that appended entries. */
const crashLeader: Fault = (ctl, rng) => {
  const id = ctl.leader() ?? pick(rng, ctl.ids);
  if (!mayCrash(ctl, id)) return;
  const after = restartDelay(rng);
  if (rng.next() < 0.3) ctl.crash(id, after);
  else ctl.armCrash(id, pick(rng, CRASH_STAGES), rng.next() < 0.6 ? 'entries' : 'persist', after);
};

const crashAny: Fault = (ctl, rng) => {
  const id = pick(rng, ctl.ids);
  if (!mayCrash(ctl, id)) return;
  const after = restartDelay(rng);
  if (rng.next() < 0.4) ctl.crash(id, after);
  else ctl.armCrash(id, pick(rng, CRASH_STAGES), 'persist', after);
};

/** Voters die right after granting a vote and come back at once: the vote must survive. */
const armVoters: Fault = (ctl, rng) => {
  const leader = ctl.leader();
  for (const id of ctl.ids) {
    if (id === leader || rng.next() < 0.3) continue;
    ctl.armCrash(id, pick(rng, ['mid-apply', 'before-advance'] as const), 'vote', 0.1 + rng.next() * 1.5);
  }
};

const partition: Fault = (ctl, rng) => {
  const ids = shuffled(ctl.ids, rng);
  const cut = rng.int(1, ids.length - 1);
  ctl.net.heal();
  ctl.net.partition([ids.slice(0, cut), ids.slice(cut)]);
  ctl.note(`partition ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(5, 40));
};

const isolateLeader: Fault = (ctl, rng) => {
  const id = ctl.leader() ?? pick(rng, ctl.ids);
  ctl.net.isolate(id);
  ctl.note(`isolate ${id}: ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(3, 30));
};

/**
 * Two sides that cannot hear each other and a bridge that hears both (Jepsen's bridge): both
 * sides elect, and the bridge votes for each in turn.
 */
const bridge: Fault = (ctl, rng) => {
  const ids = shuffled(ctl.ids, rng);
  const b = ids.pop()!;
  const cut = rng.int(1, ids.length - 1);
  const left = ids.slice(0, cut);
  const right = ids.slice(cut);
  ctl.net.heal();
  for (const x of left) {
    for (const y of right) {
      ctl.net.cut(x, y);
      ctl.net.cut(y, x);
    }
  }
  ctl.note(`bridge ${b} between ${left.join(',')} and ${right.join(',')}`);
  ctl.healNetworkAfter(rng.int(10, 40));
};

/** Asymmetric links: a leader that can send but not hear (check-quorum), or the reverse. */
const oneWay: Fault = (ctl, rng) => {
  const a = ctl.leader() ?? pick(rng, ctl.ids);
  ctl.net.heal();
  for (const b of others(ctl, a)) {
    if (rng.next() < 0.6) {
      if (rng.next() < 0.5) ctl.net.cut(a, b);
      else ctl.net.cut(b, a);
    }
  }
  ctl.note(`one-way cuts: ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(5, 30));
};

const weather: Fault = (ctl, rng) => {
  const c = (ctl.net.conditions = randomWeather(rng));
  ctl.note(`weather delay=${c.minDelay.toFixed(2)}..${c.maxDelay.toFixed(2)} drop=${c.dropRate} dup=${c.duplicateRate} late=${c.longDelayRate}`);
};

/** Messages delivered twice, late and out of order: old RequestVotes arrive after a restart. */
const echoes: Fault = (ctl, rng) => {
  const minDelay = 0.05 + rng.next() * 0.3;
  ctl.net.conditions = { minDelay, maxDelay: minDelay + 1 + rng.next() * 3, dropRate: 0, duplicateRate: 0.3, longDelayRate: 0.15, longDelay: 3 };
  ctl.note('weather: echoes (duplicates, late copies)');
};

const transfer: Fault = (ctl, rng) => {
  const l = ctl.leader();
  if (l !== null) ctl.transfer(l, pick(rng, others(ctl, l)));
};

const compact: Fault = (ctl, rng) => {
  const id = pick(rng, ctl.ids);
  if (ctl.isAlive(id)) ctl.compact(id);
};

// ------------------------------------------------------------------ membership

/** Servers in neither role of the leader's configuration, and never removed from it. */
function outsiders(ctl: NemesisControl, conf: Configuration): NodeId[] {
  return ctl.ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id) && !(conf.retired ?? []).includes(id));
}

/**
 * Adds a server as a learner, on a new, empty machine — as an operator may: under an id never used
 * (the core refuses a removed one, Configuration.retired), and only once the last change is
 * committed. A wiped machine under a removed id answered votes for the server that had it: a
 * removed server that never heard of its removal won an election with that blank vote and without
 * a committed entry (seed 1970 of 10,000, found after committing the removal had been thought
 * enough).
 */
const addLearner: Fault = (ctl, rng) => {
  const c = ctl.configuration();
  const outside = c === null || !c.committed ? [] : outsiders(ctl, c.configuration);
  if (outside.length === 0) return;
  const id = pick(rng, outside);
  ctl.replace(id);
  ctl.reconfigure([{ type: 'add-learner', id }]);
};

/** One membership step, as an operator would take it: add, promote, demote, remove — the leader too. */
const reconfigure: Fault = (ctl, rng) => {
  const conf = ctl.configuration()?.configuration;
  if (conf === undefined) return;
  const r = rng.next();
  if (r < 0.35) addLearner(ctl, rng);
  else if (r < 0.65 && conf.learners.length > 0) ctl.reconfigure([{ type: 'promote', id: pick(rng, conf.learners) }]);
  else if (r < 0.8 && conf.voters.length > 2) ctl.reconfigure([{ type: 'demote', id: pick(rng, conf.voters) }]);
  else if (conf.voters.length + conf.learners.length > 3) ctl.reconfigure([{ type: 'remove', id: pick(rng, [...conf.voters, ...conf.learners]) }]);
};

/**
 * Two learners promoted in one change, then the leader and the new voters cut off from the old
 * ones: the core must refuse the change (it moves two voters). If it took it, the two sides'
 * majorities would not overlap — the new side commits under the new configuration while the old
 * side elects and commits under the old one: the canary raft.conf.many-voters-at-once.
 */
const promotePairThenSplit: Fault = (ctl, rng) => {
  const conf = ctl.configuration()?.configuration;
  const l = ctl.leader();
  if (conf === undefined || l === null || conf.learners.length < 2) return;
  const pair = shuffled(conf.learners, rng).slice(0, 2);
  ctl.reconfigure(pair.map((id): ConfChange => ({ type: 'promote', id })));
  const side = [l, ...pair];
  ctl.net.heal();
  ctl.net.partition([side, ctl.ids.filter((id) => !side.includes(id))]);
  ctl.note(`partition ${ctl.net.describe()}`);
  ctl.healNetworkAfter(rng.int(10, 40));
};

function oneOf(ctl: NemesisControl, rng: Rng, faults: readonly [Fault, number][]): void {
  let r = rng.next() * faults.reduce((s, [, w]) => s + w, 0);
  for (const [f, w] of faults) {
    r -= w;
    if (r < 0) return f(ctl, rng);
  }
}

// ------------------------------------------------------------------ episodes

/**
 * An episode is one family of faults kept up for a while, then healed: a focused episode builds
 * the situations the safety rules exist for far more often than faults sprinkled at random.
 */
interface Episode {
  name: string;
  weight: number;
  start(ctl: NemesisControl, rng: Rng, until: number): void;
  /** Called every few ticks while the episode lasts. */
  step(ctl: NemesisControl, rng: Rng): void;
}

const EPISODES: readonly Episode[] = [
  {
    // Figure 8: leaders of successive terms each leave entries on a minority, then die.
    name: 'leader churn',
    weight: 5,
    start: (ctl, rng, until) => {
      ctl.leaderChurn(until);
      ctl.net.conditions = mildWeather(rng);
    },
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [() => undefined, 4],
        [isolateLeader, 1],
        [compact, 1],
      ]),
  },
  {
    // Elections with two candidates in one term and voters that restart in between.
    name: 'split votes',
    weight: 3,
    start: (ctl, rng, until) => {
      echoes(ctl, rng);
      ctl.voterCrashes(until, 0.3 + 0.6 * rng.next());
      if (rng.next() < 0.5) isolateLeader(ctl, rng);
      else crashLeader(ctl, rng);
    },
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [() => undefined, 2],
        [isolateLeader, 1],
        [crashLeader, 1],
        [transfer, 1],
      ]),
  },
  {
    name: 'crashes',
    weight: 2,
    start: (ctl, rng) => crashLeader(ctl, rng),
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [crashLeader, 3],
        [crashAny, 2],
        [armVoters, 1],
        [compact, 1],
      ]),
  },
  {
    name: 'partitions',
    weight: 2,
    start: (ctl, rng) => partition(ctl, rng),
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [partition, 2],
        [isolateLeader, 2],
        [bridge, 1],
        [oneWay, 1],
        [crashAny, 1],
      ]),
  },
  {
    // Membership changes under crashes and partitions (issue 13).
    name: 'membership',
    weight: 3,
    start: (ctl, rng) => reconfigure(ctl, rng),
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [reconfigure, 4],
        [addLearner, 1],
        [promotePairThenSplit, 1],
        [crashLeader, 1],
        [crashAny, 1],
        [isolateLeader, 1],
        [partition, 1],
        [transfer, 1],
      ]),
  },
  {
    name: 'bad weather',
    weight: 1,
    start: (ctl, rng) => weather(ctl, rng),
    step: (ctl, rng) =>
      oneOf(ctl, rng, [
        [weather, 2],
        [transfer, 2],
        [compact, 1],
        [crashAny, 1],
      ]),
  },
];

/** The seeded schedule of faults: episodes separated by short calm spells. */
export class Nemesis {
  private episode: Episode | null = null;
  private until = 0;

  constructor(private readonly rng: Rng) {}

  /** Acts once; returns the ticks until it wants to act again. */
  step(ctl: NemesisControl): number {
    const rng = this.rng;
    if (this.episode !== null && ctl.now >= this.until) {
      ctl.note(`nemesis: end of ${this.episode.name}`);
      this.episode = null;
      ctl.disarmAll();
      ctl.leaderChurn(0);
      ctl.voterCrashes(0, 0);
      ctl.net.heal();
      ctl.net.conditions = mildWeather(rng);
      return rng.next() * 15;
    }
    if (this.episode === null) {
      let r = rng.next() * EPISODES.reduce((s, e) => s + e.weight, 0);
      const ep = EPISODES.find((e) => (r -= e.weight) < 0) ?? EPISODES[0];
      this.episode = ep;
      this.until = ctl.now + 20 + rng.next() * 60;
      ctl.note(`nemesis: ${ep.name} until ${this.until.toFixed(1)}`);
      ep.start(ctl, rng, this.until);
    } else {
      this.episode.step(ctl, rng);
    }
    return Math.min(2 + rng.next() * 10, Math.max(0, this.until - ctl.now));
  }
}

export function mildWeather(rng: Rng): LinkConditions {
  const minDelay = 0.05 + rng.next() * 0.3;
  return { minDelay, maxDelay: minDelay + 0.3 + rng.next(), dropRate: pick(rng, [0, 0.01]), duplicateRate: 0, longDelayRate: 0, longDelay: 0 };
}
