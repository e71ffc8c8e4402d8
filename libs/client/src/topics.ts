import type { Transport } from './transport';

/**
 * Topics and consumer groups over REST (/v1/topics): publish, fetch (a long poll that leases the
 * deliveries to this consumer), ack, nack, and a topic's offsets. Shapes re-declared from the
 * gateway's contract: the SDK imports nothing from the rest of the repository.
 */

/** One delivery of a message to a consumer group: ack it after handling it, or nack it. */
export interface TopicDelivery {
  /** `<topic>/<offset>`: the message's identity, and the idempotency key of what handling it does. */
  id: string;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  /** 1 on the first delivery, one more on each redelivery (nack, visibility timeout). */
  attempt: number;
}

/** A consumer group as GET /v1/topics/{topic} shows it. */
export interface TopicGroupInfo {
  group: string;
  committed: number;
  /** Messages after `committed` not yet acknowledged. */
  lag: number;
  /** Deliveries leased now. */
  inFlight: number;
}

/** GET /v1/topics/{topic}: the offsets retained, and the groups. */
export interface TopicInfo {
  topic: string;
  /** The oldest offset retained. */
  startOffset: number;
  /** The offset the next message gets. */
  endOffset: number;
  groups: TopicGroupInfo[];
}

/** POST /v1/topics/{topic}/messages. */
export interface TopicPublishResult {
  topic: string;
  id: string;
  offset: number;
  /** The store revision of the publish. */
  revision: number;
}

export interface TopicAckResult {
  acked: string[];
  /** Ids that name no message this group still has (never published, or retained no more). */
  unknown: string[];
}

export interface TopicNackResult {
  nacked: string[];
  unknown: string[];
}

export interface TopicPublishOptions {
  /** Messages with the same key are delivered in order, to one consumer of a group at a time. */
  key?: string;
  headers?: Record<string, string>;
  /** Your own Idempotency-Key (e.g. an order id): a retry with it publishes once. Default: the client's next `<clientId>/<n>`. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface TopicFetchOptions {
  /** The consumer group (created at the topic's start on first use). */
  group: string;
  /** Most messages to lease (1 to 1000; the gateway's default 1). */
  max?: number;
  /** Long poll: wait up to this long (0 to 30 000 ms; default 0) for a message when none is deliverable now. */
  waitMs?: number;
  /** The deliveries are leased this long (the gateway's default 30 000 ms); unacknowledged, they come again. */
  visibilityMs?: number;
  /** Who fetches (default: this client's clientId). */
  consumer?: string;
  signal?: AbortSignal;
}

export interface TopicWriteOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface TopicNackOptions extends TopicWriteOptions {
  /** Deliver them again no sooner than this (default 0). */
  delayMs?: number;
}

const seg = (s: string): string => encodeURIComponent(s);

/** `client.topics`: each call one request, with the Transport's retries and failover across gateways. */
export class SynodTopics {
  constructor(
    private readonly http: Transport,
    private readonly nextKey: () => string,
    private readonly clientId: string,
  ) {}

  /** Appends a message to the topic; a retry (the Transport's, or yours with the same idempotencyKey) publishes it once. */
  async publish(topic: string, value: string, opts: TopicPublishOptions = {}): Promise<TopicPublishResult> {
    const body = { value, ...(opts.key === undefined ? {} : { key: opts.key }), ...(opts.headers === undefined ? {} : { headers: opts.headers }) };
    const r = await this.http.request<TopicPublishResult>('POST', `/v1/topics/${seg(topic)}/messages`, body, this.idem(opts), [], { signal: opts.signal });
    return r.body;
  }

  /**
   * Leases up to `max` messages to this consumer of `group` for `visibilityMs`, waiting up to
   * `waitMs` for one (an empty array when none came). Each attempt may take the whole wait, so its
   * timeout is the wait plus the client's attemptTimeoutMs; a gateway lost meanwhile is retried on
   * the next one. Deliveries leased by an attempt whose answer was lost come again after their
   * visibility timeout (at-least-once).
   */
  async fetch(topic: string, opts: TopicFetchOptions): Promise<TopicDelivery[]> {
    const q = new URLSearchParams({ group: opts.group });
    if (opts.max !== undefined) q.set('max', String(opts.max));
    if (opts.waitMs !== undefined) q.set('waitMs', String(opts.waitMs));
    if (opts.visibilityMs !== undefined) q.set('visibilityMs', String(opts.visibilityMs));
    q.set('consumer', opts.consumer ?? this.clientId);
    const attemptTimeoutMs = (opts.waitMs ?? 0) + this.http.attemptTimeoutMs;
    const r = await this.http.request<{ messages: TopicDelivery[] }>('GET', `/v1/topics/${seg(topic)}/messages?${q}`, undefined, {}, [], {
      signal: opts.signal,
      attemptTimeoutMs,
      deadlineMs: Math.max(this.http.deadlineMs, attemptTimeoutMs + this.http.attemptTimeoutMs),
    });
    return r.body.messages;
  }

  /** Acknowledges deliveries: handled, not delivered to the group again. No ids: no request. */
  async ack(topic: string, group: string, ids: string[], opts: TopicWriteOptions = {}): Promise<TopicAckResult> {
    if (ids.length === 0) return { acked: [], unknown: [] };
    const r = await this.http.request<TopicAckResult>('POST', `/v1/topics/${seg(topic)}/ack`, { group, ids }, this.idem(opts), [], { signal: opts.signal });
    return r.body;
  }

  /** Hands deliveries back to the group, to be delivered again after `delayMs` (the attempt counts). No ids: no request. */
  async nack(topic: string, group: string, ids: string[], opts: TopicNackOptions = {}): Promise<TopicNackResult> {
    if (ids.length === 0) return { nacked: [], unknown: [] };
    const body = { group, ids, ...(opts.delayMs === undefined ? {} : { delayMs: opts.delayMs }) };
    const r = await this.http.request<TopicNackResult>('POST', `/v1/topics/${seg(topic)}/nack`, body, this.idem(opts), [], { signal: opts.signal });
    return r.body;
  }

  /** The topic's offsets and groups (a linearizable read); null when nothing was ever published to it. */
  async info(topic: string, opts: { signal?: AbortSignal } = {}): Promise<TopicInfo | null> {
    const r = await this.http.request<TopicInfo>('GET', `/v1/topics/${seg(topic)}`, undefined, {}, [404], opts);
    return r.status === 404 ? null : r.body;
  }

  private idem(opts: { idempotencyKey?: string }): Record<string, string> {
    return { 'idempotency-key': opts.idempotencyKey ?? this.nextKey() };
  }
}
