import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { TopicDelivery, TopicInfo, TopicMessage } from '@app/consensus/kv';
import { CONSENSUS_CLIENT, type ConsensusClient } from '../consensus/consensus-client';
import { requestFingerprint } from '../http/fingerprint';
import { KvService } from '../kv/kv.service';

export interface FetchParams {
  topic: string;
  group: string;
  consumer: string;
  max: number;
  visibilityMs: number;
  /** Long poll: how long to wait for a deliverable message (0: one fetch). */
  waitMs: number;
  /** True once whoever asked is gone: the poll stops (what was leased is handed back by the caller). */
  gone: () => boolean;
}

/** Between two looks at a topic while a long poll waits. */
export const PROBE_MS = 50;
/**
 * A fetch is tried at least this often while waiting, even when the topic looks unchanged:
 * deliveries whose visibility ran out and nacked ones whose delay passed become deliverable
 * without any change that a look at the topic shows.
 */
export const REFETCH_MS = 1000;

/** A topic's path in its canonical spelling, for fingerprints. */
export const topicPath = (topic: string): string => `/v1/topics/${encodeURIComponent(topic)}`;

/**
 * Topics through the log: publish, fetch (leases deliveries: a log entry too), ack, nack are
 * commands of the replicated state machine; the topic's offsets and a tail are reads.
 */
@Injectable()
export class TopicsService implements OnModuleDestroy {
  /** Set when the gateway shuts down: long polls answer and tails end, so that the HTTP server can close. */
  closing = false;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly kv: KvService,
    @Inject(CONSENSUS_CLIENT) private readonly client: ConsensusClient,
  ) {}

  /**
   * A fetch, and while it finds nothing and `waitMs` is not over, another: a cheap linearizable
   * look at the topic every PROBE_MS tells when something may be deliverable (the topic or the
   * group changed), and a fetch goes at least every REFETCH_MS for redeliveries that no look shows.
   * Each fetch is a command under this gateway's own session (a fetch is no client's retry: a lost
   * answer's deliveries come again after their visibility timeout).
   */
  async fetch(p: FetchParams): Promise<TopicDelivery[]> {
    const deadline = Date.now() + p.waitMs;
    // The topic's signature as last looked at before a fetch (null: not looked at yet).
    let seen: string | null = null;
    for (;;) {
      const fetchedAt = Date.now();
      const r = await this.kv.write(
        { op: 'topic-fetch', topic: p.topic, group: p.group, consumer: p.consumer, max: p.max, visibilityMs: p.visibilityMs, now: fetchedAt },
        undefined,
        requestFingerprint('GET', `${topicPath(p.topic)}/messages`, { group: p.group, consumer: p.consumer, max: p.max, visibilityMs: p.visibilityMs }),
      );
      if (r.messages.length > 0 || Date.now() >= deadline || p.gone() || this.closing) return r.messages;
      // Something may have come while the fetch was out: fetch again at once, once per change.
      const after = await this.info(p.topic);
      const changed = signature(after, p.group) !== seen;
      seen = signature(after, p.group);
      if (changed && deliverable(after, p.group)) continue;
      // Wait for a change (or REFETCH_MS), then fetch again.
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) return [];
        const woken = await this.pause(p.topic, Math.min(PROBE_MS, left));
        if (p.gone() || this.closing) return [];
        if (woken) break;
        if (Date.now() >= deadline) break; // one last fetch at the deadline
        if (Date.now() - fetchedAt >= REFETCH_MS) break;
        const now = await this.info(p.topic);
        if (signature(now, p.group) !== seen && deliverable(now, p.group)) {
          seen = signature(now, p.group);
          break;
        }
      }
    }
  }

  onModuleDestroy(): void {
    this.closing = true;
    for (const topic of [...this.waiters.keys()]) this.changed(topic);
  }

  /**
   * Wakes the long polls of this gateway on `topic` at once: it published to the topic or handed
   * deliveries back (what goes through other gateways, the probes see, or the next refetch does).
   */
  changed(topic: string): void {
    const ws = this.waiters.get(topic);
    if (ws === undefined) return;
    this.waiters.delete(topic);
    for (const w of ws) w();
  }

  /** Up to `ms`; true when changed(topic) came first. */
  private pause(topic: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let ws = this.waiters.get(topic);
      if (ws === undefined) this.waiters.set(topic, (ws = new Set()));
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const now = this.waiters.get(topic);
        now?.delete(wake);
        if (now?.size === 0) this.waiters.delete(topic);
        resolve(false);
      }, ms);
      ws.add(wake);
    });
  }

  /** The topic's offsets and groups, linearizable; null when no message was ever published to it. */
  async info(topic: string): Promise<TopicInfo | null> {
    return (await this.client.read(randomUUID(), { op: 'topic', topic }, 'linearizable')).topic ?? null;
  }

  /** Up to `limit` messages from offset `from` on (a tail: nothing leased). */
  async read(topic: string, from: number, limit: number): Promise<TopicMessage[]> {
    return (await this.client.read(randomUUID(), { op: 'topic-read', topic, from, limit }, 'linearizable')).messages ?? [];
  }

  /** Hands deliveries back at once (their reader went away before it got them). Best effort. */
  release(topic: string, group: string, ids: string[]): void {
    if (ids.length === 0) return;
    this.kv
      .write(
        { op: 'topic-nack', topic, group, ids, delayMs: 0, now: Date.now() },
        undefined,
        requestFingerprint('POST', `${topicPath(topic)}/nack`, { group, ids, delayMs: 0 }),
      )
      .then(() => this.changed(topic))
      .catch(() => undefined); // unreleased, they come again after their visibility timeout
  }
}

/** What changes when something may have become deliverable to `group`. */
function signature(info: TopicInfo | null, group: string): string {
  if (info === null) return 'none';
  const g = info.groups.find((x) => x.group === group);
  return `${info.startOffset}:${info.endOffset}:${g === undefined ? '-' : `${g.committed}:${g.lag}:${g.inFlight}`}`;
}

/** Whether anything might be deliverable: messages the group has not had, or not all of its unacknowledged ones leased. */
function deliverable(info: TopicInfo | null, group: string): boolean {
  if (info === null) return false;
  const g = info.groups.find((x) => x.group === group);
  return g === undefined ? info.endOffset > info.startOffset : g.lag > g.inFlight;
}
