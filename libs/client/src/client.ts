import { randomUUID } from 'node:crypto';
import { campaign, leader, observe, type CampaignOptions, type Leader, type Leadership, type ObserveOptions } from './election';
import { grantKept, LeaseApi, type LeaseHandle, type LeaseOptions } from './lease';
import { lock, type Lock, type LockOptions } from './lock';
import { SynodTopics } from './topics';
import { Transport, type TransportOptions } from './transport';
import { TxnBuilder, type TxnRequest, type TxnResult } from './txn';
import { watch, type WatchEvent, type WatchOptions, type WatchSettings, type WatchTarget } from './watch';

export type Consistency = 'linearizable' | 'stale';

/**
 * A value as the store keeps it: any JSON value but null (null means "absent" in a cas, a compare
 * and a watch's delete). A string is the common case, and the default of the read methods' type
 * parameter: `get<Config>(key)` says what you stored there — an assertion, not a check.
 */
export type JsonValue = string | number | boolean | JsonValue[] | { [key: string]: JsonValue };

/** The type of a written value, widened from a literal: put('k', 'a') gives a PutResult<string>, not <'a'>. */
export type Widen<V> = V extends string ? string : V extends number ? number : V extends boolean ? boolean : V;

/** A key as the gateway returns it. */
export interface Item<V extends JsonValue = string> {
  key: string;
  value: V;
  /** = modRevision */
  revision: number;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to (it goes when the lease does); absent when none. */
  lease?: string;
}

export interface PutResult<V extends JsonValue = string> {
  key: string;
  value: V;
  revision: number;
}

export interface DeleteResult {
  key: string;
  deleted: boolean;
  revision: number;
}

export interface CasResult<V extends JsonValue = string> {
  succeeded: boolean;
  /** The value now: the new one on success, the current one (null: absent) on failure. */
  value: V | null;
  revision: number;
}

export interface Page<V extends JsonValue = string> {
  items: Item<V>[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
  /** The store revision the page was read at. */
  revision: number;
}

export interface CompactResult {
  /** The compaction point now: reads need a revision at or above it, watches start after it (410 otherwise). */
  compactRevision: number;
  /** The revision of the compaction itself. */
  revision: number;
}

export interface SynodClientOptions extends TransportOptions {
  /**
   * This client's session name: writes carry Idempotency-Keys `<clientId>/<n>` (the replicas'
   * client sessions, which fail closed). Default: a random one per client object. Two live clients
   * must never share one.
   */
  clientId?: string;
}

export interface WriteOptions {
  /** Your own Idempotency-Key (e.g. an order id), instead of the client's next `<clientId>/<n>`. */
  idempotencyKey?: string;
  /**
   * Aborting stops the request and its retries (it throws the signal's reason). A write already
   * sent may still be applied: aborting does not undo it.
   */
  signal?: AbortSignal;
}

export interface PutOptions extends WriteOptions {
  /** A lease id (client.leases.grant, client.lease): the key is deleted when the lease expires or is revoked. */
  lease?: string;
}

export interface ReadOptions {
  consistency?: Consistency;
  signal?: AbortSignal;
}

const seg = (key: string): string => encodeURIComponent(key);

/** One member as GET /v1/members and the admin member routes give it. */
export interface Member {
  id: string;
  role: 'voter' | 'learner';
  alive: boolean;
  leader: boolean;
  appliedIndex: number;
  matchIndex: number | null;
  /** Its inbox channel on the bus and its home Redis (credentials hidden). */
  address: { channel: string; home: string | null };
}

export interface MembersAnswer {
  members: Member[];
  leader: string | null;
  configIndex: number;
  committed: boolean;
}

export const ADMIN_ACTIONS = ['kill', 'revive', 'isolate', 'heal', 'storage/kill', 'storage/restart', 'byzantine'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/**
 * Synod's key-value API over REST, for Node (no Nest needed; see nest.ts for the module). Every
 * write carries an Idempotency-Key, so that the retries the Transport makes — after a 504, a
 * connection lost mid-request, a gateway down — are applied once.
 */
export class SynodClient {
  private readonly http: Transport;
  private readonly watchSettings: WatchSettings;
  readonly clientId: string;
  private seq = 0;
  /** The lease calls as the REST API has them (grant, keepalive, revoke, get); `lease()` keeps one alive for you. */
  readonly leases: LeaseApi;
  /** Topics and consumer groups: publish, fetch (long poll), ack, nack, info (topics.ts). */
  readonly topics: SynodTopics;

  constructor(opts: SynodClientOptions) {
    this.http = new Transport(opts);
    this.watchSettings = { endpoints: opts.endpoints, token: opts.token, attemptTimeoutMs: this.http.attemptTimeoutMs, deadlineMs: this.http.deadlineMs };
    this.clientId = opts.clientId ?? `sdk-${randomUUID()}`;
    this.leases = new LeaseApi(this.http, () => this.nextIdempotencyKey());
    this.topics = new SynodTopics(this.http, () => this.nextIdempotencyKey(), this.clientId);
  }

  /**
   * The key, or null when it does not exist. With `revision`: as it was at that revision (null:
   * absent then); SynodCompactedError when that revision is compacted, SynodError 400 when it is
   * in the future.
   */
  async get<V extends JsonValue = string>(key: string, opts: ReadOptions & { revision?: number } = {}): Promise<Item<V> | null> {
    const path = `/v1/kv/${seg(key)}${query({ revision: opts.revision, consistency: opts.consistency })}`;
    const r = await this.http.request<Item<V>>('GET', path, undefined, {}, [404], { signal: opts.signal });
    return r.status === 404 ? null : r.body;
  }

  /** Writes a key; with `{ lease }` attached to that lease (a SynodError 404, field "lease", when it does not exist: nothing applied). */
  put<V extends JsonValue>(key: string, value: V, opts: PutOptions = {}): Promise<PutResult<Widen<V>>> {
    return this.write<PutResult<Widen<V>>>('PUT', `/v1/kv/${seg(key)}`, opts.lease === undefined ? { value } : { value, lease: opts.lease }, opts);
  }

  delete(key: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.write<DeleteResult>('DELETE', `/v1/kv/${seg(key)}`, undefined, opts);
  }

  /** Writes `value` if the key's value is `expected` now (null: the key must be absent). */
  cas<V extends JsonValue>(key: string, expected: JsonValue | null, value: V, opts: WriteOptions = {}): Promise<CasResult<Widen<V>>> {
    return this.write<CasResult<Widen<V>>>('POST', `/v1/kv/${seg(key)}/cas`, { expected, value }, opts);
  }

  /** One page of the keys under `prefix`, after `after` when given. */
  async page<V extends JsonValue = string>(prefix: string, opts: ReadOptions & { after?: string; limit?: number } = {}): Promise<Page<V>> {
    const path = `/v1/kv${query({ prefix, after: opts.after, limit: opts.limit, consistency: opts.consistency })}`;
    return (await this.http.request<Page<V>>('GET', path, undefined, {}, [], { signal: opts.signal })).body;
  }

  /** Every key under `prefix`, in key order, fetched a page at a time as the loop asks for more. */
  async *range<V extends JsonValue = string>(prefix: string, opts: ReadOptions & { pageSize?: number } = {}): AsyncIterableIterator<Item<V>> {
    let after: string | undefined;
    for (;;) {
      const p = await this.page<V>(prefix, { after, limit: opts.pageSize ?? 500, consistency: opts.consistency, signal: opts.signal });
      yield* p.items;
      if (p.next === null) return;
      after = p.next;
    }
  }

  /**
   * An operator's action on replica `node` (POST /v1/admin/nodes/{node}/{action}): kill (`hard`:
   * SIGKILL of its process), revive, isolate, heal, storage/kill, storage/restart, or byzantine with
   * `behavior`. The gateway needs the client's `token` when it has an ADMIN_TOKEN.
   */
  async admin(node: string, action: AdminAction, opts: { hard?: boolean; behavior?: string } = {}): Promise<Record<string, unknown>> {
    const path = `/v1/admin/nodes/${seg(node)}/${action}${opts.hard ? '?mode=hard' : ''}`;
    return (await this.http.request<Record<string, unknown>>('POST', path, action === 'byzantine' ? { behavior: opts.behavior ?? 'none' } : undefined)).body;
  }

  /**
   * A transaction: `client.txn().if('k', 'version', '=', 0).then(op.put('k', 'v')).else(op.get('k')).commit()`.
   * All of it is one log entry: the comparisons and the branch that runs see one state.
   */
  txn(): TxnBuilder {
    return new TxnBuilder((body, opts) => this.txnRaw(body, opts));
  }

  /** POST /v1/txn with a body of your own (see TxnRequest), with an Idempotency-Key like any write. */
  txnRaw(body: TxnRequest, opts: WriteOptions = {}): Promise<TxnResult> {
    return this.write<TxnResult>('POST', '/v1/txn', body, opts);
  }

  /**
   * Drops the history up to `revision` (POST /v1/compact; past the current revision: up to it):
   * reads before it, and watches from it or before, get 410 (SynodCompactedError) after.
   */
  compact(revision: number, opts: WriteOptions = {}): Promise<CompactResult> {
    return this.write<CompactResult>('POST', '/v1/compact', { revision }, opts);
  }

  /**
   * The changes to a key or under a prefix, as they happen: `for await (const e of
   * client.watch({ prefix: 'config/' })) …`. It reconnects across gateways without skipping or
   * repeating a change (watch.ts); `break` closes it.
   */
  watch<V extends JsonValue = string>(target: WatchTarget, opts: WatchOptions = {}): AsyncIterableIterator<WatchEvent<V>> {
    return watch(this.watchSettings, target, opts) as AsyncIterableIterator<WatchEvent<V>>;
  }

  /**
   * A lease granted now and kept alive until `revoke()` or `close()`: a keepalive every TTL/3,
   * each retried across the gateways. `lost` resolves when the client can no longer tell that it
   * still holds it — the lease is gone (keepalive 404), or no keepalive was acknowledged for a TTL
   * — and when it is revoked or closed. The loop's timers keep Node running until then.
   */
  async lease(ttlSeconds: number, opts: LeaseOptions = {}): Promise<LeaseHandle> {
    return grantKept(this.leases, ttlSeconds, opts);
  }

  /**
   * A mutual-exclusion lock (etcd's concurrency.Mutex): resolves once this client holds `name`,
   * waiting its turn behind the holders before it (first come, first served). A lock is only as
   * good as its lease — a paused process may hold one it has lost — so pass `lock.fencingToken`
   * to what it protects, which must refuse a token below the highest it has seen (lock.ts).
   */
  lock(name: string, opts: LockOptions = {}): Promise<Lock> {
    return lock(this, name, opts);
  }

  /** Campaigns to lead `name` with `value` (etcd's concurrency.Election): resolves once elected (election.ts). */
  campaign<V extends JsonValue>(name: string, value: V, opts: CampaignOptions = {}): Promise<Leadership<Widen<V>>> {
    return campaign(this, name, value, opts) as Promise<Leadership<Widen<V>>>;
  }

  /** The leader of `name` now (the campaigner with the lowest createRevision), or null when nobody campaigns. */
  leader<V extends JsonValue = string>(name: string, opts: ReadOptions = {}): Promise<Leader<V> | null> {
    return leader(this, name, opts) as Promise<Leader<V> | null>;
  }

  /** The leader of `name` now (null: none), then each change of leader or of its value, as they happen. */
  observe<V extends JsonValue = string>(name: string, opts: ObserveOptions = {}): AsyncIterableIterator<Leader<V> | null> {
    return observe(this, name, opts) as AsyncIterableIterator<Leader<V> | null>;
  }

  /** GET /v1/cluster: protocol, leader or primary, and every replica's state. */
  async cluster(): Promise<Record<string, unknown>> {
    return (await this.http.request<Record<string, unknown>>('GET', '/v1/cluster')).body;
  }

  /** GET /v1/members: the replicated membership, each member's role and progress. */
  async members(): Promise<MembersAnswer> {
    return (await this.http.request<MembersAnswer>('GET', '/v1/members')).body;
  }

  /**
   * A membership change through the admin API (its token): `add` a replica (a voter joins as a
   * learner and is promoted once caught up), `promote`/`demote` one, `remove` one. Answers the
   * member's entry once the change is committed; 409 (SynodError) while another is in flight.
   */
  async member(change: 'add' | 'promote' | 'demote' | 'remove', id: string, role: 'voter' | 'learner' = 'voter'): Promise<Member> {
    const path =
      change === 'add' || change === 'remove' ? `/v1/admin/members${change === 'remove' ? `/${seg(id)}` : ''}` : `/v1/admin/members/${seg(id)}/${change}`;
    const method = change === 'remove' ? 'DELETE' : 'POST';
    return (await this.http.request<Member>(method, path, change === 'add' ? { id, role } : undefined)).body;
  }

  /** POST /v1/admin/leader/transfer: hand leadership to a voter; answers once it leads. */
  async transferLeadership(to: string): Promise<{ leader: string | null; from: string | null }> {
    return (await this.http.request<{ leader: string | null; from: string | null }>('POST', '/v1/admin/leader/transfer', { to })).body;
  }

  /** GET /v1/ledger/verify: every replica's hash chain rechecked from its storage, and the heads compared. */
  async verifyLedger(): Promise<Record<string, unknown> & { ok: boolean }> {
    return (await this.http.request<Record<string, unknown> & { ok: boolean }>('GET', '/v1/ledger/verify')).body;
  }

  private async write<T>(method: string, path: string, body: unknown, opts: WriteOptions): Promise<T> {
    const key = opts.idempotencyKey ?? this.nextIdempotencyKey();
    return (await this.http.request<T>(method, path, body, { 'idempotency-key': key }, [], { signal: opts.signal })).body;
  }

  private nextIdempotencyKey(): string {
    return `${this.clientId}/${++this.seq}`;
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
