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
  readonly cut = new Set<string>();

  constructor(private readonly peers: readonly string[]) {}

  /** A broadcast counts for every peer but the cut ones: their end drops it (and counts that). */
  sent(to: string | null, messages: readonly object[]): void {
    if (to !== null) return this.count(this.link(to).sent, messages);
    for (const peer of this.peers) if (!this.cut.has(peer)) this.count(this.link(peer).sent, messages);
  }

  received(from: string, messages: readonly object[]): void {
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

  private count(into: Record<string, number>, messages: readonly object[]): void {
    for (const m of messages) {
      const named = (m as Typed).type;
      // Only plain names: a peer naming its messages "constructor" or "__proto__" must not reach Object.prototype.
      let type = typeof named === 'string' && TYPE_NAME.test(named) && !(named in Object.prototype) ? named : 'other';
      if (into[type] === undefined && Object.keys(into).length >= MAX_TYPES) type = 'other';
      into[type] = (into[type] ?? 0) + 1;
    }
  }
}
