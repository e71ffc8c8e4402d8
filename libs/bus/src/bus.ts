import Redis from 'ioredis';
import { channelFor, DIRECT, topicChannel } from './channels';
import { decodeFrame, encodeFrame } from './frame';

export interface BusOptions {
  url: string;            // redis URL of the bus Redis
  cluster: string;        // channel prefix: synod:<cluster>:...
  self: string;           // this endpoint's id (a node id like "n1", or "gw-<uuid>" for a gateway)
  /** extra channels to listen on besides the direct one, e.g. ['broadcast'] for replicas, ['beacons'] for gateways */
  topics?: string[];
  /**
   * Deliver this endpoint's own frames when they come back on a topic it listens on (default false:
   * a replica that publishes to 'broadcast' does not hear itself). A direct send to self is always delivered.
   */
  echo?: boolean;
  /** Drop frames instead of queueing when this many bytes wait in the publisher's socket (default 16 MiB). */
  maxBufferedBytes?: number;
}

/** `topic` is 'direct' for a frame that came on this endpoint's own channel, else the topic name. */
export interface Frame<T = unknown> { from: string; topic: string; body: T }

export interface BusCounters {
  /** frames handed to the publisher's socket */
  sent: number;
  /** well-formed frames passed to the handlers */
  received: number;
  /** frames that failed to decode (garbage, wrong version, wrong shape) */
  malformed: number;
  /** frames not published: publisher down, socket backed up, or the PUBLISH failed in flight */
  dropped: number;
  /** exceptions thrown by frame handlers */
  handlerErrors: number;
  /** connections (publisher or subscriber) that came back after a loss: one Redis restart counts 2 */
  reconnects: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
// Retry fast and forever: a bus Redis that comes back should be used again within a second.
const retryStrategy = (attempt: number): number => Math.min(50 * attempt, 1000);
// stop() waits this long at most for an open socket to close.
const CLOSE_WAIT_MS = 1000;
// ioredis arms a timer of this length on disconnect(), and only a socket 'close' clears it; when the
// socket was already gone (Redis down) the timer runs out, so keep it short (default 2 s).
const DISCONNECT_TIMEOUT_MS = 100;

/**
 * Frames between replicas and gateways over Redis pub/sub. Two connections: a subscriber (a Redis
 * connection in subscribe mode can do nothing else) and a publisher. Pub/sub is at-most-once, so the
 * publisher never queues while Redis is away: such frames are counted as dropped and the protocols
 * retransmit.
 */
export class Bus {
  readonly counters: BusCounters = { sent: 0, received: 0, malformed: 0, dropped: 0, handlerErrors: 0, reconnects: 0 };
  /** The last connection error reported by either connection (Redis down, refused, ...). */
  lastError: Error | undefined;

  private readonly cluster: string;
  private readonly self: string;
  private readonly echo: boolean;
  private readonly maxBufferedBytes: number;
  private readonly topicOf = new Map<string, string>(); // subscribed channel -> frame topic
  private readonly handlers: Array<(frame: Frame) => void> = [];
  private readonly pub: Redis;
  private readonly sub: Redis;
  /** channel, frame, channel, frame, ... while inside batch() */
  private corked: Array<string | Buffer> | null = null;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(opts: BusOptions) {
    if (!opts.cluster) throw new Error('Bus: cluster must be non-empty');
    if (!opts.self) throw new Error('Bus: self must be non-empty');
    this.cluster = opts.cluster;
    this.self = opts.self;
    this.echo = opts.echo ?? false;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.topicOf.set(channelFor(opts.cluster, opts.self), DIRECT);
    for (const topic of opts.topics ?? []) {
      if (!topic || topic === DIRECT) throw new Error(`Bus: invalid topic name ${JSON.stringify(topic)}`);
      this.topicOf.set(topicChannel(opts.cluster, topic), topic);
    }

    this.pub = new Redis(opts.url, {
      lazyConnect: true,
      retryStrategy,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      enableOfflineQueue: false,
      // A PUBLISH in flight when the connection drops is failed (counted dropped), not resent later.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
    });
    this.sub = new Redis(opts.url, {
      lazyConnect: true,
      retryStrategy,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      autoResubscribe: true,
      maxRetriesPerRequest: null,
    });
    this.watch(this.pub);
    this.watch(this.sub);
    this.sub.on('messageBuffer', this.onMessage);
  }

  /** Connects both connections and subscribes. Rejects (and leaves the bus stopped) if Redis is unreachable. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`Bus: start() on a ${this.state} bus`);
    this.state = 'started';
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
      await this.sub.subscribe(...this.topicOf.keys());
    } catch (err) {
      await this.stop();
      // ioredis rejects with a bare "Connection is closed."; the cause is in the error event.
      throw this.lastError ?? err;
    }
  }

  /** Whether a frame to endpoint `to` can go out now (its route's Redis is connected). */
  reachable(_to: string): boolean {
    return this.writable();
  }

  /** Whether this endpoint can hear frames (every Redis it listens on is connected). */
  listening(): boolean {
    return this.state === 'started' && this.sub.status === 'ready';
  }

  onFrame(handler: (frame: Frame) => void): void {
    this.handlers.push(handler);
  }

  /** To the direct channel of endpoint `to`. */
  send(to: string, body: unknown): void {
    if (this.refuse()) return;
    this.write(channelFor(this.cluster, to), encodeFrame(this.self, body));
  }

  /** To every endpoint listening on `topic`. */
  publish(topic: string, body: unknown): void {
    if (this.refuse()) return;
    this.write(topicChannel(this.cluster, topic), encodeFrame(this.self, body));
  }

  /**
   * Frames sent inside `fn` go out together as one pipeline (one socket write) when `fn` returns,
   * in the order they were sent. Nested calls join the outer batch.
   */
  batch(fn: () => void): void {
    if (this.corked) {
      fn();
      return;
    }
    const corked: Array<string | Buffer> = [];
    this.corked = corked;
    try {
      fn();
    } finally {
      this.corked = null;
      this.flush(corked);
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.sub.removeListener('messageBuffer', this.onMessage);
    await Promise.all([close(this.pub), close(this.sub)]);
  }

  /** Outside a batch, a frame that cannot go out is dropped before it is even encoded. */
  private refuse(): boolean {
    if (this.corked || this.writable()) return false;
    this.counters.dropped++;
    return true;
  }

  private write(channel: string, frame: Buffer): void {
    if (this.corked) {
      this.corked.push(channel, frame);
      return;
    }
    this.counters.sent++;
    this.pub.publish(channel, frame).catch(this.onPublishFailed);
  }

  private flush(corked: Array<string | Buffer>): void {
    const frames = corked.length / 2;
    if (frames === 0) return;
    if (!this.writable()) {
      this.counters.dropped += frames;
      return;
    }
    const pipeline = this.pub.pipeline();
    for (let i = 0; i < corked.length; i += 2) pipeline.publish(corked[i] as string, corked[i + 1] as Buffer);
    this.counters.sent += frames;
    pipeline.exec().then(
      (results) => {
        for (const [err] of results ?? []) if (err) this.counters.dropped++;
      },
      () => {
        this.counters.dropped += frames;
      },
    );
  }

  /** Ready and not backed up: beyond that a frame would only wait in memory for a Redis that is gone. */
  private writable(): boolean {
    return this.state === 'started' && this.pub.status === 'ready' && (this.pub.stream?.writableLength ?? 0) < this.maxBufferedBytes;
  }

  private readonly onPublishFailed = (): void => {
    this.counters.dropped++;
  };

  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const topic = this.topicOf.get(channel.toString());
    if (topic === undefined) return;
    const decoded = decodeFrame(message);
    if (decoded === null) {
      this.counters.malformed++;
      return;
    }
    if (!this.echo && topic !== DIRECT && decoded.from === this.self) return;
    this.counters.received++;
    const frame: Frame = { from: decoded.from, topic, body: decoded.body };
    for (const handler of this.handlers) {
      try {
        handler(frame);
      } catch {
        this.counters.handlerErrors++;
      }
    }
  };

  private watch(conn: Redis): void {
    let wasReady = false;
    conn.on('ready', () => {
      if (wasReady) this.counters.reconnects++;
      wasReady = true;
    });
    // Without a listener ioredis prints every failed reconnect attempt; the state is visible in counters.
    conn.on('error', (err: Error) => {
      this.lastError = err;
    });
  }
}

/** Quit politely when connected (flushes what was written), else cut; resolves once the socket is gone. */
async function close(conn: Redis): Promise<void> {
  const status = conn.status;
  if (status === 'end') return;
  if (status === 'wait') {
    conn.disconnect(); // never connected: ends at once
    return;
  }
  if (status !== 'ready' && status !== 'connect' && status !== 'connecting') {
    // Between reconnect attempts: cancel the retry, and outwait the timer disconnect() arms on the
    // dead socket so that nothing of ours is left pending once stop() resolves.
    conn.disconnect();
    await new Promise((r) => setTimeout(r, DISCONNECT_TIMEOUT_MS + 10));
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    conn.once('end', resolve);
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
  });
  if (status === 'ready') await conn.quit().catch(() => conn.disconnect());
  else conn.disconnect();
  if (conn.status !== 'end') await ended;
  clearTimeout(timer);
}
