import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { SynodClient } from '../client';
import { CORRELATION_ID, decodeValue, REPLY_TO, SynodRecord, type ReplyValue } from './record';
import { topicsOf, type TopicMessage, type TopicsApi } from './topics-api';

export interface SynodClientProxyOptions {
  endpoints: string[];
  token?: string;
  /** This producer's name: its idempotency keys are `<clientId>/e<n>`, its replies come on `replies.<clientId>`. Default: random. */
  clientId?: string;
  /** How long send() waits for a reply before it errors (default 30 s). */
  timeoutMs?: number;
  /** The long poll of the reply topic (default 5000 ms). */
  waitMs?: number;
  /** A message key for emit/send without a SynodRecord (e.g. from the payload). */
  keyOf?: (pattern: string, data: unknown) => string | undefined;
  client?: SynodClient;
  /** The topics API itself (tests: an in-memory fake). */
  topics?: TopicsApi;
}

/** A send() that timed out: no reply within timeoutMs (the request may still be handled later). */
export class SynodReplyTimeoutError extends Error {
  constructor(
    readonly topic: string,
    readonly correlationId: string,
    timeoutMs: number,
  ) {
    super(`no reply to ${topic} (correlation-id ${correlationId}) within ${timeoutMs} ms`);
    this.name = 'SynodReplyTimeoutError';
  }
}

/**
 * Nest's ClientProxy on Synod topics: `emit(pattern, data)` appends `data` (JSON) to the topic
 * `pattern`, exactly once (an idempotency key per message); `send(pattern, data)` does the same with
 * `reply-to: replies.<clientId>` and a `correlation-id`, and waits for the reply on that topic,
 * which it consumes in a group of its own; after timeoutMs the caller gets SynodReplyTimeoutError.
 * Wrap the data in a SynodRecord for a message key, headers or (emit only) an idempotency key of
 * your own; a send() is always a new request, so a handler that must act once per business
 * request keys its `once` by the business id (examples/orders-payments).
 */
export class SynodClientProxy extends ClientProxy {
  readonly clientId: string;
  readonly replyTopic: string;
  private readonly api: TopicsApi;
  private seq = 0;
  private readonly pending = new Map<string, (packet: WritePacket) => void>();
  private replyLoop: Promise<void> | null = null;
  private abort: AbortController | null = null;

  constructor(private readonly options: SynodClientProxyOptions) {
    super();
    this.clientId = options.clientId ?? `proxy-${randomUUID()}`;
    this.replyTopic = `replies.${this.clientId}`;
    this.api = options.topics ?? topicsOf(options.client ?? new SynodClient({ endpoints: options.endpoints, token: options.token, clientId: this.clientId }));
    this.initializeSerializer({});
    this.initializeDeserializer({});
  }

  /** Nothing to open for emit (HTTP); the reply consumer starts with the first send(). */
  async connect(): Promise<void> {
    this._status$.next('connected');
  }

  /** Stops the reply consumer; pending send()s error. */
  async close(): Promise<void> {
    this.abort?.abort(new Error('SynodClientProxy closed'));
    this.abort = null;
    const loop = this.replyLoop;
    this.replyLoop = null;
    for (const [, cb] of this.pending) cb({ err: new Error('SynodClientProxy closed'), isDisposed: true });
    this.pending.clear();
    await loop;
    this._status$.next('disconnected');
  }

  unwrap<T>(): T {
    return this.api as T;
  }

  /** A proxy given as a Nest provider closes with the app. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const topic = this.normalizePattern(packet.pattern);
    const { data, opts } = this.unpack(topic, packet.data);
    return (await this.api.publish(topic, JSON.stringify(data ?? null), {
      key: opts.key,
      headers: opts.headers,
      idempotencyKey: opts.idempotencyKey ?? `${this.clientId}/e${++this.seq}`,
    })) as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const topic = this.normalizePattern(packet.pattern);
    const correlationId = randomUUID();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let done = false;
    const finish = (reply: WritePacket): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.pending.delete(correlationId);
      callback(reply);
    };
    const timer = setTimeout(() => finish({ err: new SynodReplyTimeoutError(topic, correlationId, timeoutMs), isDisposed: true }), timeoutMs);
    this.pending.set(correlationId, finish);
    this.ensureReplyLoop();
    const { data, opts } = this.unpack(topic, packet.data);
    this.api
      .publish(topic, JSON.stringify(data ?? null), {
        key: opts.key,
        headers: { ...opts.headers, [REPLY_TO]: this.replyTopic, [CORRELATION_ID]: correlationId },
        // Each send() is a request of its own (its correlation id): a record's idempotencyKey is for emit().
        idempotencyKey: `${this.clientId}/r${++this.seq}`,
      })
      .catch((err: unknown) => finish({ err, isDisposed: true }));
    // Unsubscribing drops the wait (the request stays published).
    return () => {
      done = true;
      clearTimeout(timer);
      this.pending.delete(correlationId);
    };
  }

  private unpack(topic: string, payload: unknown): { data: unknown; opts: { key?: string; headers?: Record<string, string>; idempotencyKey?: string } } {
    if (payload instanceof SynodRecord) {
      const o = payload.options;
      return { data: payload.data, opts: { ...o, key: o.key ?? this.options.keyOf?.(topic, payload.data) } };
    }
    return { data: payload, opts: { key: this.options.keyOf?.(topic, payload) } };
  }

  private ensureReplyLoop(): void {
    if (this.replyLoop !== null) return;
    this.abort = new AbortController();
    this.replyLoop = this.consumeReplies(this.abort.signal);
  }

  private async consumeReplies(signal: AbortSignal): Promise<void> {
    const group = this.clientId;
    let failures = 0;
    while (!signal.aborted) {
      let batch: TopicMessage[];
      try {
        batch = await this.api.fetch(this.replyTopic, { group, max: 256, waitMs: this.options.waitMs ?? 5000, consumer: this.clientId, signal });
        failures = 0;
      } catch {
        if (signal.aborted) return;
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(failures, 6))));
        continue;
      }
      for (const m of batch) {
        const cb = this.pending.get(m.headers[CORRELATION_ID] ?? '');
        if (cb === undefined) continue; // timed out, or a reply to an earlier life of this clientId
        const reply = decodeValue(m.value) as ReplyValue;
        cb(reply.err !== undefined ? { err: reply.err, isDisposed: true } : { response: reply.response, isDisposed: true });
      }
      if (batch.length > 0) {
        await this.api
          .ack(
            this.replyTopic,
            group,
            batch.map((m) => m.id),
          )
          .catch(() => undefined); // an unacked reply comes again and finds no one waiting
      }
    }
  }
}
