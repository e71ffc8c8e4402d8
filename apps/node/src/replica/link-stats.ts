import type { LinkCounters } from '@app/wire';

/** Why a frame was dropped at a link (the protocol core's own reasons are counted by the runtime). */
export type LinkDropReason = 'isolated' | 'link-cut' | 'killed' | 'not-a-peer' | 'rejected';

type Typed = { type?: unknown };

/** Message types counted by name per link: a Byzantine peer's invented types must not grow the counters without bound. */
const MAX_TYPES = 24;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,39}$/;

/**
 * The fault lab's link figures at one replica: messages sent to and received from each peer, by
 * type, and frames dropped on each link, by reason. Cumulative since the process started (a kill
 * keeps them: the links did carry that traffic); the gateway turns differences into rates.
 */
export class LinkStats {
  private readonly links = new Map<string, LinkCounters>();
  /** Drops by reason, all links together. */
  private readonly dropped: Record<string, number> = {};
  /** Peers the admin cut this replica off from, one link each (a partition between two replicas). */
  private readonly cutPeers = new Set<string>();
  /** Message type names already found plain (TYPE_NAME), so the check runs once per name. */
  private readonly plainNames = new Set<string>();

  constructor(private readonly peers: readonly string[]) {}

  cut(peer: string): void {
    this.cutPeers.add(peer);
  }

  mend(peer: string): void {
    this.cutPeers.delete(peer);
  }

  isCut(peer: string): boolean {
    return this.cutPeers.has(peer);
  }

  cutList(): string[] {
    return [...this.cutPeers];
  }

  /** A broadcast counts for every peer but the cut ones: their end drops it (and counts that). */
  sent(to: string | null, messages: readonly unknown[]): void {
    if (to !== null) return this.count(this.link(to).sent, messages);
    for (const peer of this.peers) if (!this.cutPeers.has(peer)) this.count(this.link(peer).sent, messages);
  }

  received(from: string, messages: readonly unknown[]): void {
    this.count(this.link(from).recv, messages);
  }

  drop(peer: string | null, reason: LinkDropReason, count: number): void {
    if (count <= 0) return;
    this.dropped[reason] = (this.dropped[reason] ?? 0) + count;
    if (peer === null) return;
    const d = this.link(peer).dropped;
    d[reason] = (d[reason] ?? 0) + count;
  }

  /** Copies, for a beacon: the links, and the link-level drops by reason ('rejected' excluded: the runtime counts those by their own reason). */
  snapshot(): { links: Record<string, LinkCounters>; dropped: Record<string, number> } {
    const links: Record<string, LinkCounters> = {};
    for (const [peer, c] of this.links) links[peer] = { sent: { ...c.sent }, recv: { ...c.recv }, dropped: { ...c.dropped } };
    const { rejected: _counted, ...dropped } = this.dropped;
    return { links, dropped };
  }

  private link(peer: string): LinkCounters {
    let c = this.links.get(peer);
    if (c === undefined) {
      c = { sent: {}, recv: {}, dropped: {} };
      this.links.set(peer, c);
    }
    return c;
  }

  /** Counted before the runtime checks anything: a message may be anything at all (null included). */
  private count(into: Record<string, number>, messages: readonly unknown[]): void {
    for (const m of messages) {
      let type = this.typeName(typeof m === 'object' && m !== null ? (m as Typed).type : undefined);
      if (into[type] === undefined && Object.keys(into).length >= MAX_TYPES) type = 'other';
      into[type] = (into[type] ?? 0) + 1;
    }
  }

  /** Only plain names: a peer naming its messages "constructor" or "__proto__" must not reach Object.prototype. */
  private typeName(named: unknown): string {
    if (typeof named !== 'string') return 'other';
    if (this.plainNames.has(named)) return named;
    if (!TYPE_NAME.test(named) || named in Object.prototype) return 'other';
    if (this.plainNames.size < MAX_TYPES * 2) this.plainNames.add(named);
    return named;
  }
}
