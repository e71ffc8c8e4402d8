import type { Beacon, Protocol } from '@app/wire';
import { scopeLab } from './beacon-lab';
import { type PbftConfigurations, PbftConfigurationTracker } from './pbft-configurations';

export interface NodeView {
  id: string;
  role: string;
  alive: boolean;
  /** Raft term or PBFT view the node last reported. */
  term: number;
  /** Who the node believes leads (its own view, not the gateway's). */
  leaderHint: string | null;
  commitIndex: number;
  appliedIndex: number;
  isolated: boolean;
  byzantine: string;
  /** ms since the last beacon, null when never heard. */
  lastSeenMs: number | null;
  pid: number | null;
  stableCheckpoint?: number;
  digest?: string;
}

export interface ClusterSnapshot {
  protocol: Protocol;
  leader: string | null;
  /** The leader's term/view, else the highest one an alive node reports. */
  term: number;
  nodes: NodeView[];
}

export interface ClusterViewOptions {
  /** Every replica identity (NODES): beacons are taken from these. */
  nodes: string[];
  /** The initial configuration (VOTERS, default NODES): Raft's voters until a leader says otherwise, PBFT's epoch 0. */
  voters?: string[];
  protocol: Protocol;
  /** A node not heard for longer than this is not alive. */
  staleAfterMs: number;
  now?: () => number;
  /** Whether a frame to replica `id` can go out now (GatewayBus.reachable); always, when not given. */
  reachable?: (id: string) => boolean;
}

/** Replicas whose agreement orders a request: a Raft majority, or PBFT's 2f+1 of n = 3f+1. */
export function quorumSize(protocol: Protocol, n: number): number {
  return protocol === 'pbft' ? 2 * Math.floor((n - 1) / 3) + 1 : Math.floor(n / 2) + 1;
}

// Raft says leader; PBFT replicas may say primary.
const LEADING_ROLES = new Set(['leader', 'primary']);

/**
 * What the gateway knows of the cluster, from replica beacons only: per configured node the last
 * beacon and when it came. Who leads is recomputed on every question, so a leader that falls
 * silent stops being one as soon as its beacon is stale, with no timer to keep.
 */
export class ClusterView {
  /** NODES: whose beacons are taken. */
  private readonly directory: ReadonlySet<string>;
  private readonly last = new Map<string, { beacon: Beacon; at: number }>();
  private readonly leaderListeners: Array<(leader: string) => void> = [];
  private readonly beaconListeners: Array<(beacon: Beacon, before: Beacon | null) => void> = [];
  private readonly now: () => number;
  private readonly reachable: (id: string) => boolean;
  /** Until one beacon period has passed, a node never heard from is unknown rather than dead. */
  private readonly startedAt: number;

  /**
   * Discovery: the membership the current leader's beacon announces (its latest configuration,
   * which commits or dies with its leadership); PBFT: the configuration in force that f+1 replicas
   * vouch for (pbft-configurations.ts). The cluster's nodes, quorum and health follow it, not NODES.
   */
  private membership: { voters: string[]; learners: string[]; index: number; committed: boolean };
  /** PBFT only: the configurations as the beacons confirm them. */
  private readonly pbft: PbftConfigurationTracker | null;

  constructor(private readonly opts: ClusterViewOptions) {
    this.directory = new Set(opts.nodes);
    this.membership = { voters: opts.voters ?? opts.nodes, learners: [], index: 0, committed: true };
    this.pbft = opts.protocol === 'pbft' ? new PbftConfigurationTracker(this.membership.voters) : null;
    this.now = opts.now ?? Date.now;
    this.reachable = opts.reachable ?? (() => true);
    this.startedAt = this.now();
  }

  get protocol(): Protocol {
    return this.opts.protocol;
  }

  /** The members (voters, then learners): the replicas the cluster is made of now. */
  get nodeIds(): readonly string[] {
    return [...this.membership.voters, ...this.membership.learners];
  }

  /** PBFT: the configuration in force, the one before it (replies to older requests) and the one decided next. */
  pbftConfigurations(): PbftConfigurations {
    if (this.pbft === null) throw new Error('pbftConfigurations: this cluster runs Raft');
    return this.pbft.configurations;
  }

  /** PBFT: a change f+1 replicas confirmed deciding (the admin's request), ahead of their beacons. */
  pbftDecided(next: { epoch: number; replicas: string[]; since: number }): void {
    this.pbft?.decided(next);
    this.followPbft();
  }

  /** A configuration the leader just confirmed (a change's answer), ahead of its next beacon. */
  adoptMembership(conf: { voters: string[]; learners: string[]; index: number }): void {
    if (conf.index > this.membership.index) this.membership = { voters: conf.voters, learners: conf.learners, index: conf.index, committed: true };
  }

  /** The replicated membership as the leader last announced it, with each member's matchIndex when known. */
  members(): { voters: string[]; learners: string[]; index: number; committed: boolean; match: Record<string, number> } {
    const l = this.leader();
    const match = (l !== null ? this.last.get(l)?.beacon.members?.match : undefined) ?? {};
    return { ...this.membership, match };
  }

  isMember(id: string): boolean {
    return this.directory.has(id);
  }

  /** Beacons from nodes not in NODES are ignored: the gateway forwards only to its configured cluster. */
  observe(beacon: Beacon): void {
    if (!this.directory.has(beacon.id)) return;
    if (beacon.lab !== undefined) beacon.lab = scopeLab(beacon.lab, beacon.id, this.directory);
    const before = this.leader();
    const previous = this.last.get(beacon.id)?.beacon ?? null;
    this.last.set(beacon.id, { beacon, at: this.now() });
    if (this.pbft !== null) {
      if (this.pbft.observe(beacon.id, beacon.members)) this.followPbft();
      const after = this.leader();
      if (after !== null && after !== before) for (const l of this.leaderListeners) l(after);
      return this.tellBeaconListeners(beacon, previous);
    }
    const after = this.leader();
    const announced = after !== null ? this.last.get(after)!.beacon.members : undefined;
    // A beacon older than what a change's answer told us is ignored; a lower index is taken only
    // when it is committed and ours is not (a new leader truncated an uncommitted change).
    const m = this.membership;
    if (announced !== undefined && (announced.index >= m.index || (announced.committed && !m.committed))) {
      this.membership = { voters: announced.voters, learners: announced.learners, index: announced.index, committed: announced.committed };
    }
    if (after !== null && after !== before) for (const l of this.leaderListeners) l(after);
    this.tellBeaconListeners(beacon, previous);
  }

  /** Last, after the view's own bookkeeping, and isolated: a listener's failure must not cost the gateway its leader tracking. */
  private tellBeaconListeners(beacon: Beacon, previous: Beacon | null): void {
    for (const l of this.beaconListeners) {
      try {
        l(beacon, previous);
      } catch {
        /* the lab's picture misses this beacon; the next one comes within BEACON_MS */
      }
    }
  }

  private followPbft(): void {
    const { current, next } = this.pbft!.configurations;
    this.membership = { voters: [...current.replicas], learners: [], index: current.epoch, committed: next === null };
  }

  /** Every beacon taken, with the one it replaces (the fault lab derives its events from the pair). */
  onBeacon(listener: (beacon: Beacon, before: Beacon | null) => void): void {
    this.beaconListeners.push(listener);
  }

  /** Called when a (new) leader becomes known, so waiting requests can go at once. */
  onLeader(listener: (leader: string) => void): void {
    this.leaderListeners.push(listener);
  }

  /** The alive node claiming leadership with the highest term; the most recently heard breaks a tie. */
  leader(): string | null {
    const now = this.now();
    let best: { id: string; term: number; at: number } | null = null;
    for (const [id, { beacon, at }] of this.last) {
      if (!this.isAlive(beacon, at, now) || !LEADING_ROLES.has(beacon.role)) continue;
      // PBFT: the primary is replicas[v mod n] of the configuration in force; a replica outside it does not lead.
      if (this.pbft !== null && !this.membership.voters.includes(id)) continue;
      if (best === null || beacon.term > best.term || (beacon.term === best.term && at > best.at)) best = { id, term: beacon.term, at };
    }
    return best?.id ?? null;
  }

  aliveNodes(): string[] {
    const now = this.now();
    return this.nodeIds.filter((id) => {
      const seen = this.last.get(id);
      return seen !== undefined && this.isAlive(seen.beacon, seen.at, now);
    });
  }

  /** Replicas needed to order anything (see quorumSize). */
  quorumSize(): number {
    return quorumSize(this.opts.protocol, this.membership.voters.length);
  }

  /**
   * Replicas that can take part in ordering a request now: alive by beacon, not isolated (an
   * isolated replica hears no peer), and reachable on the bus (the Redis of its inbox is up).
   */
  reachableNodes(): string[] {
    const now = this.now();
    return this.nodeIds.filter((id) => {
      const seen = this.last.get(id);
      return seen !== undefined && this.isAlive(seen.beacon, seen.at, now) && !seen.beacon.isolated && this.reachable(id);
    });
  }

  /**
   * The gateway knows that fewer than a quorum of replicas can be reached, so nothing can be
   * ordered now and a client may be told at once. Right after start, a node not yet heard from
   * is unknown, not dead: that is not knowing.
   */
  quorumUnreachable(): boolean {
    const now = this.now();
    const starting = now - this.startedAt <= this.opts.staleAfterMs;
    const possible = this.membership.voters.filter((id) => {
      if (!this.reachable(id)) return false;
      const seen = this.last.get(id);
      if (seen === undefined) return starting;
      return this.isAlive(seen.beacon, seen.at, now) && !seen.beacon.isolated;
    });
    return possible.length < this.quorumSize();
  }

  /**
   * Reachable replicas whose state disagrees with their peers': at one applied index every
   * correct replica has the same digest, so where digests differ at one index, only a strict
   * majority of the replicas at that index is trusted (on a tie, none of them is).
   */
  divergedNodes(): string[] {
    const byIndex = new Map<number, Array<{ id: string; digest: string }>>();
    for (const id of this.reachableNodes()) {
      const b = this.last.get(id)!.beacon;
      if (b.digest === undefined) continue;
      const group = byIndex.get(b.appliedIndex);
      if (group) group.push({ id, digest: b.digest });
      else byIndex.set(b.appliedIndex, [{ id, digest: b.digest }]);
    }
    const diverged: string[] = [];
    for (const group of byIndex.values()) {
      const counts = new Map<string, number>();
      for (const { digest } of group) counts.set(digest, (counts.get(digest) ?? 0) + 1);
      if (counts.size < 2) continue;
      const [top] = [...counts].sort((a, b) => b[1] - a[1]);
      const trusted = top[1] * 2 > group.length ? top[0] : null;
      for (const { id, digest } of group) if (digest !== trusted) diverged.push(id);
    }
    return this.nodeIds.filter((id) => diverged.includes(id));
  }

  node(id: string): NodeView {
    const now = this.now();
    const seen = this.last.get(id);
    if (seen === undefined) {
      return {
        id,
        role: 'unknown',
        alive: false,
        term: 0,
        leaderHint: null,
        commitIndex: 0,
        appliedIndex: 0,
        isolated: false,
        byzantine: 'none',
        lastSeenMs: null,
        pid: null,
      };
    }
    const { beacon: b, at } = seen;
    const view: NodeView = {
      id,
      role: b.role,
      alive: this.isAlive(b, at, now),
      term: b.term,
      leaderHint: b.leader,
      commitIndex: b.commitIndex,
      appliedIndex: b.appliedIndex,
      isolated: b.isolated,
      byzantine: b.byzantine,
      lastSeenMs: Math.max(0, now - at),
      pid: b.pid,
    };
    if (b.stableCheckpoint !== undefined) view.stableCheckpoint = b.stableCheckpoint;
    if (b.digest !== undefined) view.digest = b.digest;
    return view;
  }

  /** The last beacon of a node of NODES, as it came (null: never heard). */
  lastBeacon(id: string): Beacon | null {
    return this.last.get(id)?.beacon ?? null;
  }

  snapshot(): ClusterSnapshot {
    const nodes = this.nodeIds.map((id) => this.node(id));
    const leader = this.leader();
    const term = leader !== null ? (nodes.find((n) => n.id === leader)?.term ?? 0) : Math.max(0, ...nodes.filter((n) => n.alive).map((n) => n.term));
    return { protocol: this.opts.protocol, leader, term, nodes };
  }

  private isAlive(beacon: Beacon, at: number, now: number): boolean {
    return beacon.alive && now - at <= this.opts.staleAfterMs;
  }
}
