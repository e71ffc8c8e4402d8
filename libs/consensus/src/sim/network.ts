import type { Rng } from '../util/rng';
import { EventQueue } from './event-queue';

export type SimNodeId = string;

/** How the links behave; every field may change mid-schedule (the nemesis sets the weather). */
export interface LinkConditions {
  /** Per-message delay is uniform in [minDelay, maxDelay] ticks; independent delays reorder. */
  minDelay: number;
  maxDelay: number;
  /** A message is lost with this probability. */
  dropRate: number;
  /** A message is delivered twice (each copy with its own delay) with this probability. */
  duplicateRate: number;
  /** With this probability a message is held back for up to `longDelay` extra ticks (stale deliveries). */
  longDelayRate: number;
  longDelay: number;
}

export const RELIABLE: LinkConditions = {
  minDelay: 0.1,
  maxDelay: 1,
  dropRate: 0,
  duplicateRate: 0,
  longDelayRate: 0,
  longDelay: 0,
};

export interface Delivery<M> {
  from: SimNodeId;
  to: SimNodeId;
  msg: M;
  sentAt: number;
  at: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Lost to a partition (at send or while in flight). */
  cut: number;
}

/**
 * A protocol-agnostic virtual network in virtual time. Messages wait in a queue ordered by their
 * delivery time; partitions are checked both when a message is sent and when it arrives, so a
 * partition also swallows what was in flight. All randomness comes from the injected generator.
 */
export class VirtualNetwork<M> {
  private readonly inFlight = new EventQueue<Delivery<M>>();
  /** Partition group of each node; null = fully connected. */
  private group: Map<SimNodeId, number> | null = null;
  /** One-way cuts, "from>to". */
  private readonly cuts = new Set<string>();
  private nextGroup = 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, cut: 0 };

  constructor(
    private readonly rng: Rng,
    readonly nodes: readonly SimNodeId[],
    public conditions: LinkConditions = RELIABLE,
  ) {}

  send(from: SimNodeId, to: SimNodeId, msg: M, now: number): void {
    this.stats.sent++;
    if (!this.canReach(from, to)) {
      this.stats.cut++;
      return;
    }
    const c = this.conditions;
    if (c.dropRate > 0 && this.rng.next() < c.dropRate) {
      this.stats.dropped++;
      return;
    }
    this.inFlight.push(now + this.delay(), { from, to, msg, sentAt: now, at: 0 });
    if (c.duplicateRate > 0 && this.rng.next() < c.duplicateRate) {
      this.stats.duplicated++;
      this.inFlight.push(now + this.delay(), { from, to, msg, sentAt: now, at: 0 });
    }
  }

  /** Delivery time of the earliest message in flight (Infinity when none). */
  nextDeliveryTime(): number {
    return this.inFlight.peekTime();
  }

  /** Pops the earliest message due at or before `until`, skipping those a partition now blocks. */
  deliverDue(until: number): Delivery<M> | undefined {
    while (this.inFlight.size > 0 && this.inFlight.peekTime() <= until) {
      const { at, item } = this.inFlight.pop()!;
      if (!this.canReach(item.from, item.to)) {
        this.stats.cut++;
        continue;
      }
      this.stats.delivered++;
      return { ...item, at };
    }
    return undefined;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Drops everything in flight to or from `id` (e.g. a node's socket buffers when it crashes). */
  dropInFlight(id: SimNodeId): number {
    return this.inFlight.removeWhere((d) => d.to === id || d.from === id);
  }

  canReach(from: SimNodeId, to: SimNodeId): boolean {
    if (from === to) return true;
    if (this.cuts.size > 0 && this.cuts.has(`${from}>${to}`)) return false;
    return this.group === null || this.groupOf(from) === this.groupOf(to);
  }

  /** Only nodes in the same group can talk; nodes left out of every group are alone. */
  partition(groups: SimNodeId[][]): void {
    this.group = new Map();
    for (const g of groups) {
      const gid = this.nextGroup++;
      for (const id of g) this.group.set(id, gid);
    }
  }

  /** Cuts one node off from everyone, keeping any other partition as it is. */
  isolate(id: SimNodeId): void {
    if (this.group === null) this.partition([this.nodes.filter((n) => n !== id)]);
    this.group!.set(id, this.nextGroup++);
  }

  /** A one-way cut: `from` can no longer reach `to` (the reverse direction still works). */
  cut(from: SimNodeId, to: SimNodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  heal(): void {
    this.group = null;
    this.cuts.clear();
  }

  get isPartitioned(): boolean {
    return this.group !== null || this.cuts.size > 0;
  }

  /** The current groups, for traces: e.g. "n1,n2 | n3". */
  describe(): string {
    if (!this.isPartitioned) return 'connected';
    const parts: string[] = [];
    if (this.group !== null) {
      const byGroup = new Map<number, SimNodeId[]>();
      for (const id of this.nodes) {
        const g = this.groupOf(id);
        byGroup.set(g, [...(byGroup.get(g) ?? []), id]);
      }
      parts.push([...byGroup.values()].map((g) => g.join(',')).join(' | '));
    }
    if (this.cuts.size > 0) parts.push(`cuts ${[...this.cuts].join(' ')}`);
    return parts.join('; ');
  }

  private groupOf(id: SimNodeId): number {
    const g = this.group!.get(id);
    // A node no group names sits alone: a group number no one else has.
    return g === undefined ? -1 - this.nodes.indexOf(id) : g;
  }

  private delay(): number {
    const c = this.conditions;
    let d = c.minDelay + this.rng.next() * (c.maxDelay - c.minDelay);
    if (c.longDelayRate > 0 && this.rng.next() < c.longDelayRate) d += this.rng.next() * c.longDelay;
    return d;
  }
}
