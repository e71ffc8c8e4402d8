import type { Beacon, Protocol } from '@app/wire';

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
  nodes: string[];
  protocol: Protocol;
  /** A node not heard for longer than this is not alive. */
  staleAfterMs: number;
  now?: () => number;
}

// Raft says leader; PBFT replicas may say primary.
const LEADING_ROLES = new Set(['leader', 'primary']);

/**
 * What the gateway knows of the cluster, from replica beacons only: per configured node the last
 * beacon and when it came. Who leads is recomputed on every question, so a leader that falls
 * silent stops being one as soon as its beacon is stale, with no timer to keep.
 */
export class ClusterView {
  private readonly members: ReadonlySet<string>;
  private readonly last = new Map<string, { beacon: Beacon; at: number }>();
  private readonly leaderListeners: Array<(leader: string) => void> = [];
  private readonly now: () => number;

  constructor(private readonly opts: ClusterViewOptions) {
    this.members = new Set(opts.nodes);
    this.now = opts.now ?? Date.now;
  }

  get protocol(): Protocol {
    return this.opts.protocol;
  }

  get nodeIds(): readonly string[] {
    return this.opts.nodes;
  }

  isMember(id: string): boolean {
    return this.members.has(id);
  }

  /** Beacons from nodes not in NODES are ignored: the gateway forwards only to its configured cluster. */
  observe(beacon: Beacon): void {
    if (!this.members.has(beacon.id)) return;
    const before = this.leader();
    this.last.set(beacon.id, { beacon, at: this.now() });
    const after = this.leader();
    if (after !== null && after !== before) for (const l of this.leaderListeners) l(after);
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
      if (best === null || beacon.term > best.term || (beacon.term === best.term && at > best.at)) best = { id, term: beacon.term, at };
    }
    return best?.id ?? null;
  }

  aliveNodes(): string[] {
    const now = this.now();
    return this.opts.nodes.filter((id) => {
      const seen = this.last.get(id);
      return seen !== undefined && this.isAlive(seen.beacon, seen.at, now);
    });
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

  snapshot(): ClusterSnapshot {
    const nodes = this.opts.nodes.map((id) => this.node(id));
    const leader = this.leader();
    const term = leader !== null ? (nodes.find((n) => n.id === leader)?.term ?? 0) : Math.max(0, ...nodes.filter((n) => n.alive).map((n) => n.term));
    return { protocol: this.opts.protocol, leader, term, nodes };
  }

  private isAlive(beacon: Beacon, at: number, now: number): boolean {
    return beacon.alive && now - at <= this.opts.staleAfterMs;
  }
}
