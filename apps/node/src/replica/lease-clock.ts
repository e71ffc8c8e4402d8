import type { KvRequest, KvResult } from '@app/consensus/kv';

interface Tracked {
  renewedAt: number;
  deadline: number;
  /** When this replica last voted the lease expired (for this renewal); 0 = not yet. */
  votedAt: number;
}

/** A vote that did not make it into the log (a leader change, a lost request) is cast again after this. */
const REVOTE_MS = 1000;

/**
 * When leases run out, on this replica's monotonic clock — the one thing about leases that is not
 * replicated state. A lease's deadline is its TTL after this replica applied its last grant or
 * keepalive; a replica that starts deciding (a new Raft leader, a PBFT replica that starts or
 * catches up by state transfer) gives every lease its full TTL again, as etcd's new leader does.
 * So a lease never expires sooner than its TTL after the keepalive a client was told about: that
 * answer came after the apply the deadline counts from.
 *
 * What it decides is only a vote (`lease-expire` through the log); the state machine drops a vote
 * about an older renewal, so a keepalive that commits first wins.
 */
export class LeaseClock {
  private readonly leases = new Map<string, Tracked>();

  /** `ttlFactor` below 1 only for the lease tests' canary (LEASE_CLOCK=half-ttl-test-only). */
  constructor(
    private readonly now: () => number,
    private readonly ttlFactor = 1,
  ) {}

  /** Every lease, from now, with its full TTL. */
  restart(leases: ReadonlyArray<{ id: string; ttlSeconds: number; renewedAt: number }>): void {
    this.leases.clear();
    const now = this.now();
    for (const l of leases) this.leases.set(l.id, { renewedAt: l.renewedAt, deadline: now + l.ttlSeconds * 1000 * this.ttlFactor, votedAt: 0 });
  }

  /** After each applied command: grants and keepalives restart a deadline, revocations and expiries end it. */
  observe(r: KvResult): void {
    switch (r.op) {
      case 'lease-grant':
      case 'lease-keepalive':
        if (r.op === 'lease-keepalive' && !r.found) return;
        this.leases.set(r.id, { renewedAt: r.revision, deadline: this.now() + r.ttlSeconds * 1000 * this.ttlFactor, votedAt: 0 });
        return;
      case 'lease-revoke':
        this.leases.delete(r.id);
        return;
      case 'lease-expire':
        if (r.expired) this.leases.delete(r.id);
        return;
    }
  }

  /** Leases past their deadline that this replica has not voted on lately: vote now. */
  due(): Array<{ id: string; renewedAt: number }> {
    const now = this.now();
    const out: Array<{ id: string; renewedAt: number }> = [];
    for (const [id, t] of this.leases) {
      if (now < t.deadline || now - t.votedAt < REVOTE_MS) continue;
      t.votedAt = now;
      out.push({ id, renewedAt: t.renewedAt });
    }
    return out;
  }

  /** The votes due now, as requests of `client` (its seqs from `nextSeq`), voting as `voter`. */
  voteRequests(voter: string, client: string, nextSeq: () => number): KvRequest[] {
    return this.due().map((d) => ({ id: `${client}/${nextSeq()}`, ts: Date.now(), cmd: { op: 'lease-expire', id: d.id, renewedAt: d.renewedAt, voter } }));
  }

  /** What is left of a lease's TTL on this clock; null when it is not tracked. */
  remainingMs(id: string): number | null {
    const t = this.leases.get(id);
    return t === undefined ? null : Math.max(0, Math.round(t.deadline - this.now()));
  }
}
