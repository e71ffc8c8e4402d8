import type { WriteOptions } from './client';
import { SynodLeaseLostError, type LostReason } from './errors';
import type { Transport } from './transport';
import { delay } from './delay';

/** A lease as POST /v1/leases and its keepalive answer it. */
export interface Lease {
  id: string;
  ttlSeconds: number;
}

/** GET /v1/leases/{id}. */
export interface LeaseInfo {
  id: string;
  ttlSeconds: number;
  /** What is left of the TTL on the clock of the replica that decides expiry (the Raft leader); absent under PBFT. */
  remainingSeconds?: number;
  /** The keys attached to it, sorted. */
  keys: string[];
  /** The revision of its grant or last keepalive. */
  renewedAt: number;
}

/** DELETE /v1/leases/{id}: the keys it took with it, all deleted at `revision`. */
export interface RevokeResult {
  id: string;
  deleted: string[];
  revision: number;
}

export interface LeaseOptions {
  /** Aborts the grant (or the first keepalive of `keep`); a lease granted all the same expires after its TTL. */
  signal?: AbortSignal;
  /** Called after each acknowledged keepalive of the loop. */
  onKeepalive?: (lease: Lease) => void;
}

/** A lease this client keeps alive: see SynodClient.lease(). */
export interface LeaseHandle {
  readonly id: string;
  readonly ttlSeconds: number;
  /**
   * Resolves (never rejects) when the lease is no longer known to be held: with reason `gone` (a
   * keepalive got 404), `unconfirmed` (no keepalive acknowledged for a TTL), `revoked` or `closed`.
   */
  readonly lost: Promise<SynodLeaseLostError>;
  /** The error `lost` resolved with, or null while the lease is held. */
  readonly lostError: SynodLeaseLostError | null;
  /**
   * Until when (ms since the epoch, this machine's clock) the lease is sure to live: a TTL after the
   * send of the last acknowledged keepalive (the server's guarantee). Only as true as the clocks
   * and as the process's own pauses allow: a fencing token, not this, is what makes a lock safe.
   */
  readonly validUntil: number;
  /** Stops the keepalives and revokes the lease (its keys are deleted); a lease already gone is no error. */
  revoke(): Promise<void>;
  /** Stops the keepalives without revoking: the lease expires a TTL after the last one. */
  close(): void;
}

const seg = (id: string): string => encodeURIComponent(id);

/** After a keepalive that failed, the next try comes this soon (or at the next TTL/3, if sooner). */
const RETRY_MS = 250;

/** The lease calls of the REST API, one request each (with the Transport's retries and failover). */
export class LeaseApi {
  constructor(
    private readonly http: Transport,
    private readonly nextKey: () => string,
  ) {}

  /** POST /v1/leases: a new lease of `ttlSeconds` (an integer from 1). */
  async grant(ttlSeconds: number, opts: WriteOptions = {}): Promise<Lease> {
    return (await this.http.request<Lease>('POST', '/v1/leases', { ttlSeconds }, this.idem(opts), [], { signal: opts.signal })).body;
  }

  /** Renews the lease for its TTL from now; null when it does not exist (expired or revoked: its keys are gone). */
  async keepalive(id: string, opts: WriteOptions & { deadlineMs?: number } = {}): Promise<Lease | null> {
    const r = await this.http.request<Lease>('POST', `/v1/leases/${seg(id)}/keepalive`, undefined, this.idem(opts), [404], opts);
    return r.status === 404 ? null : r.body;
  }

  /** Revokes the lease, deleting its keys in one revision; null when it did not exist. */
  async revoke(id: string, opts: WriteOptions & { deadlineMs?: number } = {}): Promise<RevokeResult | null> {
    const r = await this.http.request<RevokeResult>('DELETE', `/v1/leases/${seg(id)}`, undefined, this.idem(opts), [404], opts);
    return r.status === 404 ? null : r.body;
  }

  /** The lease's TTL, what is left of it, its keys; null when it does not exist. */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<LeaseInfo | null> {
    const r = await this.http.request<LeaseInfo>('GET', `/v1/leases/${seg(id)}`, undefined, {}, [404], opts);
    return r.status === 404 ? null : r.body;
  }

  /**
   * Keeps a lease granted elsewhere (another process, `synodctl lease grant`) alive, as lease()
   * does its own: one keepalive now — null when the lease does not exist — then the loop.
   */
  async keep(id: string, opts: LeaseOptions = {}): Promise<LeaseHandle | null> {
    const sentAt = Date.now();
    const r = await this.keepalive(id, { signal: opts.signal });
    // Not ours to revoke when unconfirmed: whoever granted it may still be keeping it.
    return r === null ? null : new KeptLease(this, r.id, r.ttlSeconds, sentAt, opts, false);
  }

  private idem(opts: WriteOptions): Record<string, string> {
    return { 'idempotency-key': opts.idempotencyKey ?? this.nextKey() };
  }
}

/** SynodClient.lease(): a grant, then the loop. */
export async function grantKept(api: LeaseApi, ttlSeconds: number, opts: LeaseOptions): Promise<LeaseHandle> {
  const sentAt = Date.now();
  const g = await api.grant(ttlSeconds, { signal: opts.signal });
  return new KeptLease(api, g.id, g.ttlSeconds, sentAt, opts);
}

/**
 * The keepalive loop. The server keeps a lease at least its TTL after it applied a keepalive, so
 * at least a TTL after the client *sent* the one it was told about: `validUntil` counts from the
 * send, never from the answer (a slow answer must not lengthen what the client believes). A
 * keepalive goes every TTL/3, so two may fail before the lease is in danger; a failed one is tried
 * again soon, each try retried across the gateways by the Transport until `validUntil` — after
 * that it is of no use: the client no longer knows that it holds the lease (`unconfirmed`), stops,
 * and — a lease it granted — revokes it in the background, so that its keys (a lock's) do not
 * outlive what it believes.
 */
export class KeptLease implements LeaseHandle {
  readonly lost: Promise<SynodLeaseLostError>;
  lostError: SynodLeaseLostError | null = null;
  validUntil: number;
  private resolveLost!: (err: SynodLeaseLostError) => void;
  private readonly stop = new AbortController();
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: LeaseApi,
    readonly id: string,
    readonly ttlSeconds: number,
    sentAt: number,
    private readonly opts: LeaseOptions = {},
    /** Revoke it when it is no longer confirmed (a lease this client granted; not one it only keeps). */
    private readonly revokeUnconfirmed = true,
  ) {
    this.lost = new Promise((r) => (this.resolveLost = r));
    this.validUntil = sentAt + ttlSeconds * 1000;
    this.armExpiry();
    void this.loop(sentAt);
  }

  async revoke(): Promise<void> {
    this.lose('revoked', `lease ${this.id} revoked by this client`);
    await this.api.revoke(this.id);
  }

  close(): void {
    this.lose('closed', `lease ${this.id} closed by this client (no more keepalives)`);
  }

  private async loop(lastSentAt: number): Promise<void> {
    const interval = (this.ttlSeconds * 1000) / 3;
    let wait = lastSentAt + interval - Date.now();
    while (!this.stop.signal.aborted) {
      await delay(wait, this.stop.signal);
      if (this.stop.signal.aborted) return;
      const sentAt = Date.now();
      try {
        const r = await this.api.keepalive(this.id, { signal: this.stop.signal, deadlineMs: Math.max(1, this.validUntil - sentAt) });
        if (this.stop.signal.aborted) return;
        if (r === null) {
          this.lose('gone', `lease ${this.id} is gone: it expired or was revoked`);
          return;
        }
        this.validUntil = Math.max(this.validUntil, sentAt + r.ttlSeconds * 1000);
        this.armExpiry();
        this.opts.onKeepalive?.(r);
        wait = sentAt + interval - Date.now();
      } catch {
        // No gateway, a 5xx until the deadline, a 4xx: try again soon; the expiry timer decides when it is lost.
        wait = Math.min(RETRY_MS, interval);
      }
    }
  }

  private armExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      if (!this.lose('unconfirmed', `lease ${this.id}: no keepalive acknowledged for its TTL (${this.ttlSeconds} s): it may have expired`)) return;
      if (this.revokeUnconfirmed) this.api.revoke(this.id, { deadlineMs: this.ttlSeconds * 1000 }).catch(() => undefined);
    }, this.validUntil - Date.now());
  }

  /** Marks the lease lost (the first reason wins) and stops the loop; false when it was already. */
  private lose(reason: LostReason, message: string): boolean {
    if (this.lostError !== null) return false;
    this.lostError = new SynodLeaseLostError(this.id, reason, message);
    clearTimeout(this.expiry);
    this.stop.abort();
    this.resolveLost(this.lostError);
    return true;
  }
}
