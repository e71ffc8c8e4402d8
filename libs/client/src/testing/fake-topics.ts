import type { FetchOptions, PublishOptions, TopicMessage, TopicsApi } from '../transport/topics-api';

interface Stored {
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

interface Delivery {
  attempt: number;
  /** Leased until then (or held back by a nack's delay). */
  until: number;
  consumer: string | null;
}

/**
 * An in-memory stand-in for `client.topics` with the state machine's rules, for unit tests:
 * offsets per topic, consumer groups with acks, leases (visibility timeout), nack with delay,
 * per-key order (a key's messages go to one consumer at a time, in order), exactly-once produce by
 * idempotency key, long polls.
 */
export class FakeTopics implements TopicsApi {
  readonly topics = new Map<string, Stored[]>();
  private readonly groups = new Map<string, { acked: Set<number>; deliveries: Map<number, Delivery> }>();
  private readonly produced = new Map<string, { id: string; offset: number }>();
  readonly calls: string[] = [];
  /** Make the next fetches fail (a gateway down). */
  failFetches = 0;

  async publish(topic: string, value: string, opts: PublishOptions = {}): Promise<{ id: string; offset: number }> {
    this.calls.push(`publish ${topic}`);
    const dedup = opts.idempotencyKey === undefined ? undefined : `${topic}\0${opts.idempotencyKey}`;
    if (dedup !== undefined && this.produced.has(dedup)) return this.produced.get(dedup)!;
    const log = this.log(topic);
    const offset = log.length;
    log.push({ offset, key: opts.key ?? null, value, headers: { ...(opts.headers ?? {}) } });
    const r = { id: `${topic}/${offset}`, offset };
    if (dedup !== undefined) this.produced.set(dedup, r);
    return r;
  }

  async fetch(topic: string, opts: FetchOptions): Promise<TopicMessage[]> {
    this.calls.push(`fetch ${topic}`);
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      opts.signal?.throwIfAborted();
      if (this.failFetches > 0) {
        this.failFetches--;
        throw new Error('fake: gateway down');
      }
      const got = this.take(topic, opts);
      if (got.length > 0 || Date.now() >= deadline) return got;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async ack(topic: string, group: string, ids: string[]): Promise<{ acked: string[]; unknown: string[] }> {
    this.calls.push(`ack ${topic} ${ids.join(',')}`);
    const g = this.group(topic, group);
    for (const id of ids) {
      const off = Number(id.slice(topic.length + 1));
      g.acked.add(off);
      g.deliveries.delete(off);
    }
    return { acked: ids, unknown: [] };
  }

  async nack(topic: string, group: string, ids: string[], opts: { delayMs?: number } = {}): Promise<{ nacked: string[]; unknown: string[] }> {
    this.calls.push(`nack ${topic} ${ids.join(',')}`);
    const g = this.group(topic, group);
    for (const id of ids) {
      const d = g.deliveries.get(Number(id.slice(topic.length + 1)));
      if (d) {
        d.until = Date.now() + (opts.delayMs ?? 0);
        d.consumer = null;
      }
    }
    return { nacked: ids, unknown: [] };
  }

  /** Messages of `topic` not acked by `group`. */
  pending(topic: string, group: string): number {
    const g = this.group(topic, group);
    return this.log(topic).filter((m) => !g.acked.has(m.offset)).length;
  }

  private take(topic: string, opts: FetchOptions): TopicMessage[] {
    const g = this.group(topic, opts.group);
    const now = Date.now();
    const max = opts.max ?? 10;
    const blockedKeys = new Set<string>();
    const out: TopicMessage[] = [];
    for (const m of this.log(topic)) {
      if (out.length >= max) break;
      if (g.acked.has(m.offset)) continue;
      const d = g.deliveries.get(m.offset);
      const free = d === undefined || d.until <= now;
      if (m.key !== null && blockedKeys.has(m.key)) continue;
      if (!free) {
        if (m.key !== null) blockedKeys.add(m.key);
        continue;
      }
      const attempt = (d?.attempt ?? 0) + 1;
      g.deliveries.set(m.offset, { attempt, until: now + (opts.visibilityMs ?? 30_000), consumer: opts.consumer ?? null });
      out.push({ id: `${topic}/${m.offset}`, offset: m.offset, key: m.key, value: m.value, headers: { ...m.headers }, attempt });
    }
    return out;
  }

  private log(topic: string): Stored[] {
    let l = this.topics.get(topic);
    if (!l) this.topics.set(topic, (l = []));
    return l;
  }

  private group(topic: string, group: string): { acked: Set<number>; deliveries: Map<number, Delivery> } {
    const k = `${topic}\0${group}`;
    let g = this.groups.get(k);
    if (!g) this.groups.set(k, (g = { acked: new Set(), deliveries: new Map() }));
    return g;
  }
}
