import type { ByzantineBehavior } from '@app/wire';

/**
 * What a scenario is made of: a named list of steps, each at an offset from the run's start, with
 * an action (one AdminService call per resolved node) and a target resolved when the step runs,
 * not when the run starts: "the leader" at 20 s is whoever leads at 20 s.
 */

export const SCENARIO_ACTIONS = [
  'kill',
  'hard-kill',
  'revive',
  'isolate',
  'heal',
  'byzantine',
  'storage-kill',
  'storage-restart',
  'cut-link',
  'heal-link',
  'heal-all',
] as const;
export type ScenarioAction = (typeof SCENARIO_ACTIONS)[number];

/**
 * - `leader` (alias `primary`): whoever leads when the step runs (waited for a few seconds when
 *   nobody does, e.g. right after the previous leader was killed);
 * - `follower` (alias `backup`): the live, reachable non-leader with the lowest id;
 * - `each`: the k-th member by id for the k-th repetition (rolling restarts);
 * - `all`: every member;
 * - `$name`: the node(s) an earlier step remembered under that name;
 * - anything else: an explicit node id.
 */
export type TargetSpec = string;

/** The other end of a link: a target, or `half` — floor(n/2) of the other members, lowest ids first. */
export type PeerSpec = TargetSpec;

export interface ScenarioStep {
  /** ms from the run's start (divided by the run's speed). */
  at: number;
  action: ScenarioAction;
  /** Absent only for heal-all. */
  target?: TargetSpec;
  /** cut-link / heal-link: the other end(s). */
  peer?: PeerSpec;
  /** byzantine: the behaviour ("none" heals). */
  behavior?: ByzantineBehavior;
  /** Remember the resolved node(s) as `$<name>` for later steps. */
  remember?: string;
  /** Remember the resolved peers as `$<name>` (a partition healed later must heal the same links). */
  rememberPeers?: string;
  /** Run it `times` times (`members`: once per member), `every` ms apart. */
  repeat?: { every: number; times: number | 'members' };
}

export type Requirement = 'supervisor';

export interface Scenario {
  name: string;
  title: string;
  description: string;
  protocols: Array<'raft' | 'pbft'>;
  /** What the gateway needs beyond the replicas' control planes. */
  requires: Requirement[];
  steps: ScenarioStep[];
  /** ms after the last step before the run ends with its heal-all (the last fault's effects show meanwhile). */
  tailMs: number;
}

/** One occurrence of a step in a run: repeats expanded, the offset scaled by the run's speed. */
export type PlannedStep = Omit<ScenarioStep, 'repeat'> & {
  index: number;
  /** Which repetition of its step this is (0-based): what `each` resolves with. */
  repetition: number;
  /** For people: "kill the leader (as $victim)". */
  text: string;
  /**
   * For each `$name` it reads, the index of the step (occurrence) whose resolved nodes it acts on:
   * the latest occurrence writing that name scheduled before it, so the revive of the k-th kill
   * reads the k-th kill's victim however late that kill resolved its target. The step waits until
   * that step has settled.
   */
  reads?: Record<string, number>;
};
