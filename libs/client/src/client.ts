import { randomUUID } from 'node:crypto';
import { Transport, type TransportOptions } from './transport';
import { TxnBuilder, type TxnRequest, type TxnResult } from './txn';
import { watch, type WatchEvent, type WatchOptions, type WatchSettings, type WatchTarget } from './watch';

export type Consistency = 'linearizable' | 'stale';

/** A key as the gateway returns it. */
export interface Item {
  key: string;
  value: string;
  /** = modRevision */
  revision: number;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface PutResult {
  key: string;
  value: string;
  revision: number;
}

export interface DeleteResult {
  key: string;
  deleted: boolean;
  revision: number;
}

export interface CasResult {
  succeeded: boolean;
  /** The value now: the new one on success, the current one (null: absent) on failure. */
  value: string | null;
  revision: number;
}

export interface Page {
  items: Item[];
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
}

const seg = (key: string): string => encodeURIComponent(key);

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

  constructor(opts: SynodClientOptions) {
    this.http = new Transport(opts);
    this.watchSettings = { endpoints: opts.endpoints, token: opts.token, attemptTimeoutMs: this.http.attemptTimeoutMs, deadlineMs: this.http.deadlineMs };
    this.clientId = opts.clientId ?? `sdk-${randomUUID()}`;
  }

  /**
   * The key, or null when it does not exist. With `revision`: as it was at that revision (null:
   * absent then); SynodCompactedError when that revision is compacted, SynodError 400 when it is
   * in the future.
   */
  async get(key: string, opts: { consistency?: Consistency; revision?: number } = {}): Promise<Item | null> {
    const path = `/v1/kv/${seg(key)}${query({ revision: opts.revision, consistency: opts.consistency })}`;
    const r = await this.http.request<Item>('GET', path, undefined, {}, [404]);
    return r.status === 404 ? null : r.body;
  }

  put(key: string, value: string, opts: WriteOptions = {}): Promise<PutResult> {
    return this.write<PutResult>('PUT', `/v1/kv/${seg(key)}`, { value }, opts);
  }

  delete(key: string, opts: WriteOptions = {}): Promise<DeleteResult> {
    return this.write<DeleteResult>('DELETE', `/v1/kv/${seg(key)}`, undefined, opts);
  }

  /** Writes `value` if the key's value is `expected` now (null: the key must be absent). */
  cas(key: string, expected: string | null, value: string, opts: WriteOptions = {}): Promise<CasResult> {
    return this.write<CasResult>('POST', `/v1/kv/${seg(key)}/cas`, { expected, value }, opts);
  }

  /** One page of the keys under `prefix`, after `after` when given. */
  async page(prefix: string, opts: { after?: string; limit?: number; consistency?: Consistency } = {}): Promise<Page> {
    const r = await this.http.request<Page>('GET', `/v1/kv${query({ prefix, after: opts.after, limit: opts.limit, consistency: opts.consistency })}`);
    return r.body;
  }

  /** Every key under `prefix`, in key order, fetched a page at a time as the loop asks for more. */
  async *range(prefix: string, opts: { pageSize?: number; consistency?: Consistency } = {}): AsyncIterableIterator<Item> {
    let after: string | undefined;
    for (;;) {
      const p = await this.page(prefix, { after, limit: opts.pageSize ?? 500, consistency: opts.consistency });
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
  watch(target: WatchTarget, opts: WatchOptions = {}): AsyncIterableIterator<WatchEvent> {
    return watch(this.watchSettings, target, opts);
  }

  /** GET /v1/cluster: protocol, leader or primary, and every replica's state. */
  async cluster(): Promise<Record<string, unknown>> {
    return (await this.http.request<Record<string, unknown>>('GET', '/v1/cluster')).body;
  }

  private async write<T>(method: string, path: string, body: unknown, opts: WriteOptions): Promise<T> {
    const key = opts.idempotencyKey ?? `${this.clientId}/${++this.seq}`;
    return (await this.http.request<T>(method, path, body, { 'idempotency-key': key })).body;
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
