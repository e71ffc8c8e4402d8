import { randomUUID } from 'node:crypto';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { SynodClient } from '../client';
import { SynodError } from '../errors';
import { SynodContext } from './context';
import { CORRELATION_ID, decodeValue, REPLY_TO, type ReplyValue } from './record';
import { topicsOf, type TopicMessage, type TopicsApi } from './topics-api';

export interface SynodServerOptions {
  /** Gateway base URLs. */
  endpoints: string[];
  /** The consumer group: instances with one group share the messages (competing consumers). */
  group: string;
  /** A bearer token for the gateway, when it wants one. */
  token?: string;
  /** Handlers running at once, per topic (default 16). Messages with one key always run one at a time, in order. */
  concurrency?: number;
  /** Messages fetched per long poll, per topic (default: concurrency × 2). */
  batchSize?: number;
  /** How long a delivery is leased to this consumer before it is redelivered elsewhere (default: the gateway's). */
  visibilityMs?: number;
  /** How long a fetch waits for messages (long poll; default 5000). */
  waitMs?: number;
  /** This instance's name in its group (default: random). */
  consumer?: string;
  /** The delay before a nacked message is redelivered: attempt × this (default 200 ms). */
  nackDelayMs?: number;
  /** How long close() waits for the handlers that are running (default 10 s). */
  closeTimeoutMs?: number;
  /** An SDK client to use instead of one made from endpoints/token. */
  client?: SynodClient;
  /** The topics API itself (tests: an in-memory fake). */
  topics?: TopicsApi;
}

type Outcome = 'ack' | 'nack';

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * A Nest microservice transport on Synod topics:
 * `app.connectMicroservice({ strategy: new SynodServer({ endpoints, group: 'payments' }) })`.
 *
 * Each pattern is a topic: `listen()` runs one consumer loop per registered pattern, which
 * long-polls the topic in the server's consumer group (GET /v1/topics/{t}/messages), hands each
 * message to its handler with a SynodContext, acks it once the handler's Promise or Observable
 * completes and nacks it when the handler throws (a redelivery after `attempt × nackDelayMs`;
 * the dead-letter topic `<t>.dlq` after the state machine's attempt limit). Delivery is
 * at-least-once: a crash before the ack redelivers after the visibility timeout, so give handlers
 * effects that are idempotent, or Synod writes through `once()` (exactly-once effects).
 *
 * Messages with one key run one at a time, in offset order; when one fails, the later messages of
 * its key in the same batch are nacked unprocessed, so the order holds across the redelivery.
 *
 * A `@MessagePattern` handler answers requests: a message with `reply-to` and `correlation-id`
 * headers (SynodClientProxy.send) gets the handler's result, or its error, published to the reply
 * topic with the correlation id; the reply is produced once per request (its idempotency key is the
 * request's id), even when the request is redelivered.
 */
export class SynodServer extends Server implements CustomTransportStrategy {
  private readonly api: TopicsApi;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly consumer: string;
  private abort: AbortController | null = null;
  private loops: Promise<void>[] = [];
  private readonly listeners = new Map<string, Array<(...args: unknown[]) => void>>();

  constructor(private readonly options: SynodServerOptions) {
    super();
    this.api = options.topics ?? topicsOf(options.client ?? new SynodClient({ endpoints: options.endpoints, token: options.token }));
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    this.batchSize = Math.max(1, options.batchSize ?? this.concurrency * 2);
    this.consumer = options.consumer ?? `${options.group}-${randomUUID().slice(0, 8)}`;
    this.initializeSerializer({});
    this.initializeDeserializer({});
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.abort = new AbortController();
    const signal = this.abort.signal;
    for (const [pattern, handler] of this.messageHandlers) {
      // The pattern is the topic: a name the gateway takes (an object pattern is not one).
      if (!TOPIC_NAME.test(pattern)) {
        this.logger.error(`pattern ${pattern} is not a topic name (1 to 200 of A-Z a-z 0-9 . _ -): not consumed`);
        continue;
      }
      this.loops.push(this.consume(pattern, handler, signal));
    }
    this._status$.next('connected');
    callback();
  }

  /** Stops fetching, lets the running handlers finish and ack (at most closeTimeoutMs), then returns. */
  async close(): Promise<void> {
    if (this.abort === null) return;
    this.abort.abort(new Error('SynodServer closed'));
    this.abort = null;
    const loops = Promise.allSettled(this.loops);
    this.loops = [];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loops, new Promise((r) => (timer = setTimeout(r, this.options.closeTimeoutMs ?? 10_000)))]);
    clearTimeout(timer);
    this._status$.next('disconnected');
  }

  /** `error`: a fetch failed (the loop retries). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  on<EventKey extends string = string, EventCallback extends Function = Function>(event: EventKey, callback: EventCallback): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), callback as unknown as (...args: unknown[]) => void]);
  }

  /** The topics API the server consumes through. */
  unwrap<T>(): T {
    return this.api as T;
  }

  /** This instance's consumer name in its group. */
  get consumerName(): string {
    return this.consumer;
  }

  private emitEvent(event: string, ...args: unknown[]): void {
    for (const cb of this.listeners.get(event) ?? []) cb(...args);
  }

  private async consume(topic: string, handler: MessageHandler, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let batch: TopicMessage[];
      try {
        batch = await this.api.fetch(topic, {
          group: this.options.group,
          max: this.batchSize,
          waitMs: this.options.waitMs ?? 5000,
          visibilityMs: this.options.visibilityMs,
          consumer: this.consumer,
          signal,
        });
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        this.logger.warn?.(`fetch of ${topic} failed (${failures} in a row): ${(err as Error).message}`);
        this.emitEvent('error', err);
        await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)), signal);
        continue;
      }
      // The batch runs to its end even when close() was called: its acks are what make close clean.
      if (batch.length > 0) await this.processBatch(topic, handler, batch);
    }
  }

  /** The batch's messages by key (in offset order within a key), keys in parallel up to `concurrency`. */
  private async processBatch(topic: string, handler: MessageHandler, batch: TopicMessage[]): Promise<void> {
    const lanes = new Map<string, TopicMessage[]>();
    for (const m of [...batch].sort((a, b) => a.offset - b.offset)) {
      const lane = m.key === null ? `\0${m.id}` : m.key;
      const l = lanes.get(lane);
      if (l) l.push(m);
      else lanes.set(lane, [m]);
    }
    const acks: string[] = [];
    const nacks: TopicMessage[] = [];
    const queue = [...lanes.values()];
    const worker = async (): Promise<void> => {
      for (let lane = queue.shift(); lane !== undefined; lane = queue.shift()) {
        let failed = false;
        for (const m of lane) {
          if (failed) {
            nacks.push(m);
            continue;
          }
          const outcome = await this.handleMessage(topic, handler, m);
          if (outcome === 'ack') acks.push(m.id);
          else {
            failed = true;
            nacks.push(m);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    await this.settle(topic, acks, nacks);
  }

  private async settle(topic: string, acks: string[], nacks: TopicMessage[]): Promise<void> {
    const group = this.options.group;
    const delay = this.options.nackDelayMs ?? 200;
    const jobs: Promise<unknown>[] = [];
    if (acks.length > 0) jobs.push(this.api.ack(topic, group, acks));
    // One nack per attempt count, so that the back-off grows with the attempts.
    const byAttempt = new Map<number, string[]>();
    for (const m of nacks) byAttempt.set(m.attempt, [...(byAttempt.get(m.attempt) ?? []), m.id]);
    for (const [attempt, ids] of byAttempt) jobs.push(this.api.nack(topic, group, ids, { delayMs: delay * attempt }));
    for (const r of await Promise.allSettled(jobs)) {
      // A lost ack or nack costs a redelivery after the visibility timeout, never a message.
      if (r.status === 'rejected') this.logger.warn?.(`ack/nack on ${topic} failed: ${(r.reason as Error).message}`);
    }
  }

  private async handleMessage(topic: string, handler: MessageHandler, m: TopicMessage): Promise<Outcome> {
    const ctx = new SynodContext([m, topic, this.options.group]);
    const data = decodeValue(m.value);
    const replyTo = m.headers[REPLY_TO];
    const correlationId = m.headers[CORRELATION_ID];
    const isRequest = !handler.isEventHandler && replyTo !== undefined && correlationId !== undefined;
    let reply: ReplyValue;
    try {
      const result = await lastValueFrom(this.transformToObservable(await handler(data, ctx)), { defaultValue: undefined });
      if (!isRequest) return 'ack';
      reply = { response: result, isDisposed: true };
    } catch (err) {
      if (!isRequest) {
        this.logger.warn?.(`handler of ${m.id} (attempt ${m.attempt}) failed: ${describe(err)}`);
        return 'nack';
      }
      // A request's error is its answer: the caller gets it (Nest's RPC exceptions arrive as objects already).
      reply = { err: err instanceof Error ? { message: err.message, name: err.name } : err, isDisposed: true };
    }
    try {
      await this.api.publish(replyTo, JSON.stringify(reply), { headers: { [CORRELATION_ID]: correlationId }, idempotencyKey: `reply/${m.id}` });
      return 'ack';
    } catch (err) {
      // 422: a reply to this request was published already (an earlier delivery), with another result.
      if (err instanceof SynodError && err.status === 422) return 'ack';
      this.logger.warn?.(`reply to ${m.id} on ${replyTo} failed: ${describe(err)}`);
      return 'nack';
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
