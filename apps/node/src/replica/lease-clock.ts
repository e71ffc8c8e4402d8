import { randomUUID } from 'node:crypto';
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
 * about an older renewal, so a keepalive that commits first wins. The votes are requests of a
 * client session of their own, named afresh by each process and whenever the replicas refuse it
 * (a session dropped from their memory refuses every later request).
 */
export class LeaseClock {
  private readonly leases = new Map<string, Tracked>();
  private voteClient = '';
  private voteSeq = 0;

  /**
   * `clientPrefix`: the votes' session name before a random part (under PBFT `<replica>/leases`,
   * whose signer is the replica). `ttlFactor` below 1 only for the lease tests' canary.
   */
  constructor(
    private readonly now: () => number,
    private readonly clientPrefix: string,
    private readonly ttlFactor = 1,
  ) {
    this.renameVoteClient();
  }

  /** Every lease, from now, with its full TTL. */
  restart(leases: ReadonlyArray<{ id: string; ttlSeconds: number; renewedAt: number }>): void {
    this.leases.clear();
    const now = this.now();
    for (const l of leases) this.leases.set(l.id, { renewedAt: l.renewedAt, deadline: now + l.ttlSeconds * 1000 * this.ttlFactor, votedAt: 0 });
  }

  /**
   * After each command applied at `revision`: grants and keepalives restart a deadline,
   * revocations and expiries end it. A retry's remembered answer (an older revision) changes
   * nothing: it is not a renewal now.
   */
  observe(r: KvResult, requestId: string, revision: number): void {
    if (r.op === 'refused' && requestId.startsWith(`${this.voteClient}/`)) return this.renameVoteClient();
    if (r.revision !== revision) return;
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

  /** The votes due now, as requests of this clock's session, voting as `voter`. */
  voteRequests(voter: string): KvRequest[] {
    return this.due().map((d) => ({
      id: `${this.voteClient}/${++this.voteSeq}`,
      ts: Date.now(),
      cmd: { op: 'lease-expire', id: d.id, renewedAt: d.renewedAt, voter },
    }));
  }

  /** The votes' session name now (its requests are `<name>/<seq>`). */
  get client(): string {
    return this.voteClient;
  }

  /** What is left of a lease's TTL on this clock; null when it is not tracked. */
  remainingMs(id: string): number | null {
    const t = this.leases.get(id);
    return t === undefined ? null : Math.max(0, Math.round(t.deadline - this.now()));
  }

  private renameVoteClient(): void {
    this.voteClient = `${this.clientPrefix}-${randomUUID().slice(0, 8)}`;
    this.voteSeq = 0;
  }
}
