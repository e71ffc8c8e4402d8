/**
 * Leases (etcd's lessor, as replicated state): a lease has a TTL and keys attached to it; revoking
 * or expiring it deletes them in one revision. The state machine knows no time: *when* a lease
 * expires is decided outside it (apps/node/src/replica/lease-clock.ts) and comes in through the log
 * as `lease-expire` votes. `renewedAt` (the revision of the last grant or keepalive) guards them: a
 * vote cast before a keepalive the client was told about does not count after it.
 */
export interface Lease {
  id: string;
  ttlSeconds: number;
  renewedAt: number;
  keys: Set<string>;
  /** Replicas that voted it expired since `renewedAt`, sorted. */
  votes: string[];
}

/** A lease as the snapshot keeps it (keys are rebuilt from the data's lease attachments). */
export interface LeaseRecord {
  id: string;
  ttlSeconds: number;
  renewedAt: number;
  votes: string[];
}

export class KvLeases {
  private readonly byId = new Map<string, Lease>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Lease | undefined {
    return this.byId.get(id);
  }

  /** Leases in id order (the snapshot's canonical order). */
  all(): Lease[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The id is the grant's revision in base 36: unique, and the same on every replica. */
  grant(ttlSeconds: number, revision: number): Lease {
    const lease: Lease = { id: revision.toString(36), ttlSeconds, renewedAt: revision, keys: new Set(), votes: [] };
    this.byId.set(lease.id, lease);
    return lease;
  }

  renew(id: string, revision: number): Lease | undefined {
    const lease = this.byId.get(id);
    if (lease === undefined) return undefined;
    lease.renewedAt = revision;
    lease.votes = [];
    return lease;
  }

  /**
   * Counts `voter`'s vote that lease `id`, as renewed at `renewedAt`, has expired: true when it now
   * has `quorum` of them (the caller then removes it). A vote about an older renewal is void.
   */
  voteExpired(id: string, renewedAt: number, voter: string, quorum: number): boolean {
    const lease = this.byId.get(id);
    if (lease === undefined || lease.renewedAt !== renewedAt) return false;
    if (!lease.votes.includes(voter)) lease.votes = [...lease.votes, voter].sort();
    return lease.votes.length >= quorum;
  }

  /** Forgets the lease; its keys are the caller's to delete. */
  remove(id: string): Lease | undefined {
    const lease = this.byId.get(id);
    this.byId.delete(id);
    return lease;
  }

  attach(id: string, key: string): void {
    this.byId.get(id)?.keys.add(key);
  }

  detach(id: string, key: string): void {
    this.byId.get(id)?.keys.delete(key);
  }

  load(records: LeaseRecord[]): void {
    for (const r of records) this.byId.set(r.id, { ...r, keys: new Set() });
  }
}
