import Redis, { type RedisOptions } from 'ioredis';
import { channelFor, DIRECT, topicChannel } from './channels';
import { CLIENT_PRINCIPAL, FrameAuth, type FrameAuthOptions, type RejectReason } from './auth';

export interface BusOptions {
  /**
   * Where each replica's inbox lives: node id -> Redis URL (its "home"). A frame to a replica goes
   * through that replica's home; a replica listens on its home only, so one Redis is exactly one
   * replica's fault domain. An endpoint without a home (a gateway, a test client) listens on every
   * home and is reached through the sender's home.
   */
  homes?: Record<string, string>;
  /** Or one Redis for every endpoint (tests, benches): everyone's home. */
  url?: string;
  cluster: string; // channel prefix: synod:<cluster>:...
  self: string; // this endpoint's id (a node id like "n1", or "gw-<uuid>" for a gateway)
  /** extra channels to listen on besides the direct one, e.g. ['broadcast'] for replicas, ['beacons'] for gateways */
  topics?: string[];
  /**
   * Deliver this endpoint's own frames when they come back on a topic it listens on (default false:
   * a replica that publishes to 'broadcast' does not hear itself). A direct send to self is always delivered.
   */
  echo?: boolean;
  /** Drop frames instead of queueing when this many bytes wait in a publisher's socket (default 16 MiB). */
  maxBufferedBytes?: number;
  /** ioredis options for a URL (credentials, db, TLS, Sentinel); default: ioredis's own URL parsing. */
  redisOptions?: (url: string) => RedisOptions;
  /** Frame authentication (auth.ts): this endpoint's keys and the replica ids. Every frame is sealed and checked. */
  auth: Omit<FrameAuthOptions, 'cluster' | 'self'>;
}

/** `topic` is 'direct' for a frame that came on this endpoint's own channel, else the topic name. */
export interface Frame<T = unknown> {
  from: string;
  topic: string;
  body: T;
}

export interface BusCounters {
  /** frames handed to a publisher's socket */
  sent: number;
  /** well-formed frames passed to the handlers */
  received: number;
  /** frames that failed to decode (garbage, wrong version, wrong shape) */
  malformed: number;
  /** well-formed frames refused by authentication, by reason (forged, altered, replayed, stale) */
  rejected: Record<RejectReason, number>;
  /** frames not published: publisher down, socket backed up, or the PUBLISH failed in flight */
  dropped: number;
  /** exceptions thrown by frame handlers */
  handlerErrors: number;
  /** connections (publisher or subscriber) that came back after a loss: one Redis restart counts 2 */
  reconnects: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
// Retry fast and forever: a Redis that comes back should be used again within a second.
const retryStrategy = (attempt: number): number => Math.min(50 * attempt, 1000);
// stop() waits this long at most for an open socket to close.
const CLOSE_WAIT_MS = 1000;
// ioredis arms a timer of this length on disconnect(), and only a socket 'close' clears it; when the
// socket was already gone (Redis down) the timer runs out, so keep it short (default 2 s).
const DISCONNECT_TIMEOUT_MS = 100;

/** The connections to one Redis: a publisher, and a subscriber when this endpoint listens there. */
interface Link {
  url: string;
  pub: Redis;
  sub: Redis | null;
  /** The subscriber's first SUBSCRIBE went through; from then on ioredis resubscribes by itself. */
  subscribed: boolean;
}

/**
 * Frames between replicas and gateways over Redis pub/sub, across one or several Redis servers.
 * Per Redis two connections: a publisher and (where this endpoint listens) a subscriber, since a
 * connection in subscribe mode can do nothing else. Pub/sub is at-most-once, so a publisher never
 * queues while its Redis is away: such frames are counted as dropped and the protocols retransmit.
 */
export class Bus {
  readonly counters: BusCounters;
  /** Seals and checks this endpoint's frames; the control plane seals its commands with it too. */
  readonly auth: FrameAuth;
  /** The last connection error reported by any connection (Redis down, refused, ...). */
  lastError: Error | undefined;

  private readonly cluster: string;
  private readonly self: string;
  private readonly echo: boolean;
  private readonly maxBufferedBytes: number;
  private readonly homes: Record<string, string>;
  private readonly fallbackUrl: string | undefined;
  /** The other replicas: the audience of broadcast(). */
  private readonly peers: string[];
  private readonly topicOf = new Map<string, string>(); // subscribed channel -> frame topic
  private readonly handlers: Array<(frame: Frame) => void> = [];
  private readonly links = new Map<string, Link>(); // by URL
  /** The Redis servers this endpoint listens on: its home, or every home when it has none. */
  private readonly listenUrls: string[];
  /** url, channel, frame, url, channel, frame, ... while inside batch() */
  private corked: Array<string | Buffer> | null = null;
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(opts: BusOptions) {
    if (!opts.cluster) throw new Error('Bus: cluster must be non-empty');
    if (!opts.self) throw new Error('Bus: self must be non-empty');
    // Two routing modes, never mixed: one Redis for everyone (url), or each replica's home (homes).
    if (opts.url !== undefined && opts.homes !== undefined) throw new Error('Bus: give url or homes, not both');
    this.homes = { ...(opts.homes ?? {}) };
    this.fallbackUrl = opts.url;
    const urls = [...new Set([...Object.values(this.homes), ...(opts.url ? [opts.url] : [])])];
    if (urls.length === 0) throw new Error('Bus: needs a url or homes');
    this.cluster = opts.cluster;
    this.self = opts.self;
    this.echo = opts.echo ?? false;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.auth = new FrameAuth({ ...opts.auth, cluster: opts.cluster, self: opts.self });
    this.peers = opts.auth.replicas.filter((id) => id !== opts.self);
    this.counters = { sent: 0, received: 0, malformed: 0, rejected: this.auth.rejected, dropped: 0, handlerErrors: 0, reconnects: 0 };
    this.topicOf.set(channelFor(opts.cluster, opts.self), DIRECT);
    for (const topic of opts.topics ?? []) {
      if (!topic || topic === DIRECT) throw new Error(`Bus: invalid topic name ${JSON.stringify(topic)}`);
      this.topicOf.set(topicChannel(opts.cluster, topic), topic);
    }

    const own = this.homeOf(opts.self);
    this.listenUrls = own !== undefined ? [own] : urls;
    const options = opts.redisOptions ?? (() => ({}));
    for (const url of urls) {
      const listens = this.listenUrls.includes(url);
      const base = opts.redisOptions ? options(url) : url;
      const link: Link = {
        url,
        pub: connect(base, {
          lazyConnect: true,
          retryStrategy,
          disconnectTimeout: DISCONNECT_TIMEOUT_MS,
          enableOfflineQueue: false,
          // A PUBLISH in flight when the connection drops is failed (counted dropped), not resent later.
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 0,
        }),
        sub: listens
          ? connect(base, { lazyConnect: true, retryStrategy, disconnectTimeout: DISCONNECT_TIMEOUT_MS, autoResubscribe: true, maxRetriesPerRequest: null })
          : null,
        subscribed: false,
      };
      this.watch(link.pub);
      if (link.sub) {
        this.watch(link.sub);
        link.sub.on('messageBuffer', this.onMessage);
      }
      this.links.set(url, link);
    }
  }

  /**
   * Connects and subscribes. An endpoint with a home needs that Redis (rejects, and leaves the bus
   * stopped, if it is unreachable); one that listens everywhere needs at least one of them, and picks
   * the others up as they come (ioredis keeps retrying). Publishers to other homes never block start:
   * a replica must boot while a peer's Redis is down.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`Bus: start() on a ${this.state} bus`);
    this.state = 'started';
    const listens = this.listenUrls.map((url) => this.links.get(url)!);
    // Subscribe whenever a subscriber becomes ready and has not subscribed yet: one that failed at
    // start comes back through retryStrategy, possibly before the others have settled.
    for (const link of listens) link.sub!.on('ready', () => void this.subscribe(link).catch(() => undefined));
    const listening = listens.map(async (link) => {
      await Promise.all([link.pub.connect(), link.sub!.connect()]);
      await this.subscribe(link);
    });
    for (const link of this.links.values()) if (!link.sub) link.pub.connect().catch(() => undefined);
    // Wait for every listener to connect or fail: one suffices for an endpoint without a home (and
    // with a home there is exactly one).
    const settled = await Promise.allSettled(listening);
    if (!settled.some((s) => s.status === 'fulfilled')) {
      await this.stop();
      // ioredis rejects with a bare "Connection is closed."; the cause is in the error event.
      throw this.lastError ?? (settled[0] as PromiseRejectedResult).reason;
    }
  }

  private async subscribe(link: Link): Promise<void> {
    if (link.subscribed || this.state !== 'started') return;
    await link.sub!.subscribe(...this.topicOf.keys());
    link.subscribed = true;
  }

  onFrame(handler: (frame: Frame) => void): void {
    this.handlers.push(handler);
  }

  /** Whether a frame to endpoint `to` can go out now (the Redis of its route is connected and not backed up). */
  reachable(to: string): boolean {
    const url = this.routeTo(to);
    return url !== undefined && this.writable(this.links.get(url)!);
  }

  /**
   * Whether this endpoint hears what `from` sends: the subscriber on the Redis its frames arrive on
   * is connected. Without `from`: whether it hears anything at all (some Redis it listens on is connected).
   */
  listening(from?: string): boolean {
    if (this.state !== 'started') return false;
    const urls = from === undefined ? this.listenUrls : [this.homeOf(from) ?? this.homeOf(this.self)].filter((u): u is string => u !== undefined);
    return urls.some((u) => {
      const link = this.links.get(u);
      return link?.sub?.status === 'ready' && link.subscribed;
    });
  }

  /** To the direct channel of endpoint `to`. */
  send(to: string, body: unknown): void {
    const url = this.routeTo(to);
    if (url === undefined || this.refuse([url])) return;
    const channel = channelFor(this.cluster, to);
    this.write(url, channel, this.auth.sealTo(channel, to, body));
  }

  /**
   * To the endpoints that listen on `topic` on every Redis (gateways): one copy, on this endpoint's
   * home (on every Redis when it has none). Beacons, metrics, replies to a client topic.
   */
  publish(topic: string, body: unknown): void {
    const own = this.homeOf(this.self);
    this.fanOut(own !== undefined ? [own] : this.allUrls(), topic, body, this.echo ? [CLIENT_PRINCIPAL, this.auth.principal] : [CLIENT_PRINCIPAL]);
  }

  /** To every replica listening on `topic` at its home: one copy on each other replica's Redis. */
  broadcast(topic: string, body: unknown): void {
    const urls = new Set<string>();
    for (const [id, url] of Object.entries(this.homes)) if (id !== this.self) urls.add(url);
    if (this.fallbackUrl !== undefined) urls.add(this.fallbackUrl);
    this.fanOut([...urls], topic, body, this.echo ? [...this.peers, this.auth.principal] : this.peers);
  }

  /**
   * Frames sent inside `fn` go out together when `fn` returns: one pipeline (one socket write) per
   * Redis, in the order they were sent. Nested calls join the outer batch.
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
    const conns: Redis[] = [];
    for (const link of this.links.values()) {
      link.sub?.removeListener('messageBuffer', this.onMessage);
      conns.push(link.pub, ...(link.sub ? [link.sub] : []));
    }
    await Promise.all(conns.map(close));
  }

  private homeOf(id: string): string | undefined {
    return this.homes[id] ?? this.fallbackUrl;
  }

  /** Through the addressee's home; to an endpoint without one (a gateway), through our own home. */
  private routeTo(to: string): string | undefined {
    return this.homeOf(to) ?? this.homeOf(this.self);
  }

  private allUrls(): string[] {
    return [...this.links.keys()];
  }

  private fanOut(urls: string[], topic: string, body: unknown, audience: string[]): void {
    if (urls.length === 0 || this.refuse(urls)) return;
    const channel = topicChannel(this.cluster, topic);
    const frame = this.auth.seal(channel, body, audience);
    for (const url of urls) this.write(url, channel, frame);
  }

  /** Outside a batch, frames that cannot go out on any route are dropped before they are even encoded. */
  private refuse(urls: string[]): boolean {
    if (this.corked || urls.some((u) => this.writable(this.links.get(u)!))) return false;
    this.counters.dropped += urls.length;
    return true;
  }

  private write(url: string, channel: string, frame: Buffer): void {
    if (this.corked) {
      this.corked.push(url, channel, frame);
      return;
    }
    const link = this.links.get(url)!;
    if (!this.writable(link)) {
      this.counters.dropped++;
      return;
    }
    this.counters.sent++;
    link.pub.publish(channel, frame).catch(this.onPublishFailed);
  }

  private flush(corked: Array<string | Buffer>): void {
    const byUrl = new Map<string, Array<string | Buffer>>();
    for (let i = 0; i < corked.length; i += 3) {
      const url = corked[i] as string;
      let list = byUrl.get(url);
      if (!list) byUrl.set(url, (list = []));
      list.push(corked[i + 1], corked[i + 2]);
    }
    for (const [url, list] of byUrl) {
      const link = this.links.get(url)!;
      const frames = list.length / 2;
      if (!this.writable(link)) {
        this.counters.dropped += frames;
        continue;
      }
      const pipeline = link.pub.pipeline();
      for (let i = 0; i < list.length; i += 2) pipeline.publish(list[i] as string, list[i + 1] as Buffer);
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
  }

  /** Ready and not backed up: beyond that a frame would only wait in memory for a Redis that is gone. */
  private writable(link: Link): boolean {
    return this.state === 'started' && link.pub.status === 'ready' && (link.pub.stream?.writableLength ?? 0) < this.maxBufferedBytes;
  }

  private readonly onPublishFailed = (): void => {
    this.counters.dropped++;
  };

  private readonly onMessage = (channelBuf: Buffer, message: Buffer): void => {
    const channel = channelBuf.toString();
    const topic = this.topicOf.get(channel);
    if (topic === undefined) return;
    // Our own frame back on a topic is not for us (we are not in its audience): skip it unchecked.
    const decoded = this.auth.open(channel, message, { ignoreFrom: !this.echo && topic !== DIRECT ? this.self : undefined });
    if (decoded === 'malformed') {
      this.counters.malformed++;
      return;
    }
    if (decoded === null || typeof decoded === 'string') return; // ours, or refused (counted by reason in counters.rejected)
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

function connect(base: string | RedisOptions, extra: RedisOptions): Redis {
  return typeof base === 'string' ? new Redis(base, extra) : new Redis({ ...base, ...extra });
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
  // QUIT is not awaited beyond CLOSE_WAIT_MS: a frozen Redis never answers it.
  if (status === 'ready') void conn.quit().catch(() => undefined);
  else conn.disconnect();
  if (conn.status !== 'end') await ended;
  clearTimeout(timer);
  const stuck = conn.status !== 'end';
  // Also closes what QUIT leaves open: the Sentinel failover detector's connections (ioredis #1362).
  conn.disconnect();
  if (stuck) await new Promise((r) => setTimeout(r, DISCONNECT_TIMEOUT_MS + 10));
}
