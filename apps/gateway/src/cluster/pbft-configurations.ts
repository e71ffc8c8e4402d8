import type { BeaconMembers } from '@app/wire';

/** One PBFT replica set and the checkpoint boundary after which it governs (the core's PbftConfiguration). */
export interface PbftConfigurationView {
  epoch: number;
  replicas: string[];
  since: number;
}

/** What the gateway takes as PBFT's membership: the configuration in force, the one before it, the one decided next. */
export interface PbftConfigurations {
  prev: PbftConfigurationView | null;
  current: PbftConfigurationView;
  next: PbftConfigurationView | null;
}

/** f of a set of n = 3f+1 replicas. */
export function faultsOf(n: number): number {
  return Math.floor((n - 1) / 3);
}

const key = (c: PbftConfigurationView): string => `${c.epoch}@${c.since}:${c.replicas.join(',')}`;

/**
 * The PBFT configuration as the gateway trusts it, learned from beacons (each replica publishes
 * the configuration in force at it and the one decided next). A replica's beacon is only its own
 * word, and up to f replicas may lie, so a configuration is taken once f+1 replicas vouch for it,
 * at least one of them correct:
 *  - f+1 replicas of the configuration the gateway trusts now (f of that one): the chain the core
 *    itself follows, one certified change after another;
 *  - or f'+1 replicas of the newer configuration itself (f' of it): the model's bound holds for
 *    every configuration (at most f' of its replicas faulty), and without this a gateway started
 *    after the initial replicas were removed would never find the present one.
 * Epochs only grow: a report of an older configuration is history, never a step back.
 */
export class PbftConfigurationTracker {
  private state: PbftConfigurations;
  /** The last report of each replica: the configuration in force there and the one decided next. */
  private readonly reports = new Map<string, { current: PbftConfigurationView; next: PbftConfigurationView | null }>();

  constructor(initial: string[]) {
    this.state = { prev: null, current: { epoch: 0, replicas: [...initial], since: 0 }, next: null };
  }

  get configurations(): PbftConfigurations {
    return this.state;
  }

  /** A beacon's membership (from replica `from`); true when the configuration the gateway trusts changed. */
  observe(from: string, m: BeaconMembers | undefined): boolean {
    if (m?.pbft === undefined) return false;
    this.reports.set(from, { current: { epoch: m.index, replicas: m.voters, since: m.pbft.since }, next: m.pbft.next });
    return this.settle();
  }

  /** A configuration the replicas confirmed to the admin (f+1 matching replies to its request): decided, next. */
  decided(next: PbftConfigurationView): void {
    if (next.epoch === this.state.current.epoch + 1) this.state = { ...this.state, next };
  }

  private settle(): boolean {
    let changed = false;
    for (;;) {
      const adopted = this.vouched(
        (r) => r.current,
        (c) => c.epoch > this.state.current.epoch,
      );
      if (adopted === null) break;
      this.state = { prev: this.state.current, current: adopted, next: null };
      changed = true;
    }
    const next = this.vouched(
      (r) => r.next,
      (c) => c.epoch === this.state.current.epoch + 1,
    );
    if (next !== null && (this.state.next === null || key(next) !== key(this.state.next))) {
      this.state = { ...this.state, next };
      changed = true;
    }
    return changed;
  }

  /** The highest-epoch configuration `pick` reports that passes `wanted` and f+1 replicas vouch for (see the class comment). */
  private vouched(
    pick: (r: { current: PbftConfigurationView; next: PbftConfigurationView | null }) => PbftConfigurationView | null,
    wanted: (c: PbftConfigurationView) => boolean,
  ): PbftConfigurationView | null {
    const byKey = new Map<string, { conf: PbftConfigurationView; from: string[] }>();
    for (const [from, r] of this.reports) {
      const c = pick(r);
      if (c === null || !wanted(c)) continue;
      const k = key(c);
      const group = byKey.get(k);
      if (group) group.from.push(from);
      else byKey.set(k, { conf: c, from: [from] });
    }
    const trusted = new Set(this.state.current.replicas);
    const fTrusted = faultsOf(this.state.current.replicas.length);
    let best: PbftConfigurationView | null = null;
    for (const { conf, from } of byKey.values()) {
      const own = new Set(conf.replicas);
      const byTrusted = from.filter((id) => trusted.has(id)).length >= fTrusted + 1;
      const byItself = from.filter((id) => own.has(id)).length >= faultsOf(conf.replicas.length) + 1;
      if ((byTrusted || byItself) && (best === null || conf.epoch > best.epoch)) best = conf;
    }
    return best === null ? null : { epoch: best.epoch, replicas: [...best.replicas], since: best.since };
  }
}
