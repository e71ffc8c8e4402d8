import type { TopicCommand, TopicDelivery, TopicInfo, TopicMessage } from './types';

/**
 * Topics and consumer groups as replicated state: one job, the message bus's bookkeeping. Every
 * replica applies the same commands in the same order and gets the same state; time comes only
 * from the commands' `now` (the proposer's clock), never from this process.
 *
 * A topic is an append-only log with offsets from 0; retention drops its oldest messages (by count
 * always, by age when configured) and `start` moves up. A consumer group has a `committed` offset
 * (every message below it is acknowledged), the offsets acknowledged above it, and the messages
 * delivered and not yet acknowledged (`pending`: offset → consumer, attempt, deadline). A message
 * is in `pending` from its first delivery to its acknowledgement, so its attempts so far live
 * there too and nothing else has to remember them.
 */

/** Offsets one fetch looks at, at most: a fetch costs O(max + scanned) whatever the backlog. */
export const TOPIC_FETCH_SCAN = 10_000;
/** Most messages one fetch delivers, or one topic-read returns. */
export const TOPIC_MAX_BATCH = 1000;
/** Where a message goes after too many attempts: `<topic>.dlq`. */
export const DEAD_LETTER_SUFFIX = '.dlq';

export const DEFAULT_TOPIC_RETAIN_MESSAGES = 100_000;
export const DEFAULT_TOPIC_RETAIN_MS = 0;
export const DEFAULT_TOPIC_MAX_ATTEMPTS = 5;

export interface StoredMessage {
  key: string | null;
  value: string;
  /** Sorted by name (canonical bytes in answers and snapshots). */
  headers: Record<string, string>;
  /** The publisher's `now`: retention by age compares it. */
  publishedAt: number;
}

/** A delivery not yet acknowledged: leased to `consumer` until `deadline`, or (consumer null) nacked and due again at `deadline`. */
export interface Pending {
  consumer: string | null;
  attempt: number;
  deadline: number;
}

export interface Group {
  committed: number;
  /** Acknowledged offsets above `committed` (never `committed` itself: it would have advanced). */
  acked: Set<number>;
  pending: Map<number, Pending>;
}

export interface Topic {
  /** First retained offset. */
  start: number;
  /** Messages from `start`, at `head + (offset - start)`: dropping the oldest is O(1) amortized. */
  messages: StoredMessage[];
  head: number;
  groups: Map<string, Group>;
}

/** A topic as the snapshot keeps it: groups sorted by name, their acked and pending offsets ascending. */
export interface TopicRecord {
  name: string;
  start: number;
  messages: StoredMessage[];
  groups: Array<{ name: string; committed: number; acked: number[]; pending: Array<{ offset: number } & Pending> }>;
}

export interface TopicLimits {
  retainMessages: number;
  retainMs: number;
  maxAttempts: number;
}

type Publish = Extract<TopicCommand, { op: 'topic-publish' }>;
type Fetch = Extract<TopicCommand, { op: 'topic-fetch' }>;
type Ack = Extract<TopicCommand, { op: 'topic-ack' }>;
type Nack = Extract<TopicCommand, { op: 'topic-nack' }>;

function endOf(t: Topic): number {
  return t.start + t.messages.length - t.head;
}

function messageAt(t: Topic, offset: number): StoredMessage {
  return t.messages[t.head + offset - t.start];
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Headers with keys in sort order: the same headers give the same bytes everywhere. */
export function sortedHeaders(h: Record<string, string> | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === null) return out;
  for (const k of Object.keys(h).sort(compareNames)) out[k] = h[k];
  return out;
}

/** `<topic>/<offset>` → offset, when the id names this topic with a canonical decimal offset; else null. */
function offsetOf(topic: string, id: string): number | null {
  const slash = id.lastIndexOf('/');
  if (slash < 0 || id.slice(0, slash) !== topic) return null;
  const digits = id.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(digits)) return null;
  const offset = Number(digits);
  return Number.isSafeInteger(offset) ? offset : null;
}

export class KvTopics {
  private readonly byName = new Map<string, Topic>();

  constructor(private readonly limits: TopicLimits) {}

  get size(): number {
    return this.byName.size;
  }

  /** Messages kept, every topic together (O(topics)). */
  get messageCount(): number {
    let n = 0;
    for (const t of this.byName.values()) n += endOf(t) - t.start;
    return n;
  }

  /** Appends (then applies retention); the offset is the new message's. */
  publish(cmd: Publish): { id: string; offset: number } {
    return this.append(cmd.topic, { key: cmd.key, value: cmd.value, headers: sortedHeaders(cmd.headers), publishedAt: cmd.now });
  }

  /**
   * Leases up to `max` deliverable messages to `consumer`. Scans from the group's committed offset
   * (at most TOPIC_FETCH_SCAN offsets) in order, so per-key order holds: the first unacknowledged
   * message of a key met on the way — leased, due again, or delivered now — blocks the key for
   * the rest of the scan. A fetch on a topic never published to creates nothing (a consumer
   * polling a misspelled topic leaves no state behind) and delivers nothing; the group is created
   * at the topic's start on the first fetch after it exists, which loses nothing (start is the
   * oldest message kept).
   */
  fetch(cmd: Fetch): TopicDelivery[] {
    const t = this.byName.get(cmd.topic);
    if (t === undefined) return [];
    let g = t.groups.get(cmd.group);
    if (g === undefined) {
      g = { committed: t.start, acked: new Set(), pending: new Map() };
      t.groups.set(cmd.group, g);
    }
    const out: TopicDelivery[] = [];
    const blocked = new Set<string>();
    const end = Math.min(endOf(t), g.committed + TOPIC_FETCH_SCAN);
    for (let offset = g.committed; offset < end && out.length < cmd.max; offset++) {
      if (g.acked.has(offset)) continue;
      const m = messageAt(t, offset);
      if (m.key !== null) {
        if (blocked.has(m.key)) continue;
        blocked.add(m.key);
      }
      const p = g.pending.get(offset);
      if (p !== undefined && p.deadline > cmd.now) continue;
      const attempt = (p?.attempt ?? 0) + 1;
      if (attempt > this.limits.maxAttempts) {
        // Dead letter: one copy per group that gave up on it (another group may still handle the
        // message, and each group's failures are its own). For this group it counts as acknowledged.
        this.deadLetter(cmd.topic, offset, m, attempt - 1, cmd.now);
        this.acknowledge(g, offset);
        if (m.key !== null) blocked.delete(m.key);
        continue;
      }
      g.pending.set(offset, { consumer: cmd.consumer, attempt, deadline: cmd.now + cmd.visibilityMs });
      out.push({ id: `${cmd.topic}/${offset}`, offset, key: m.key, value: m.value, headers: { ...m.headers }, attempt });
    }
    // Dead letters may have acknowledged the committed offset itself.
    this.advance(g);
    return out;
  }

  /**
   * Acknowledges deliveries: an id delivered to the group (leased, expired or nacked) or already
   * acknowledged is `acked` (acking is idempotent, and a late ack from a consumer whose lease ran
   * out still means the message was handled); anything else — never delivered to this group, not
   * published, retained no more, another topic's — is `unknown`. O(ids).
   */
  ack(cmd: Ack): { acked: string[]; unknown: string[] } {
    const acked: string[] = [];
    const unknown: string[] = [];
    const t = this.byName.get(cmd.topic);
    const g = t?.groups.get(cmd.group);
    for (const id of cmd.ids) {
      const offset = offsetOf(cmd.topic, id);
      if (t === undefined || g === undefined || offset === null || offset < t.start || offset >= endOf(t)) {
        unknown.push(id);
      } else if (offset < g.committed || g.acked.has(offset)) {
        acked.push(id);
      } else if (g.pending.has(offset)) {
        this.acknowledge(g, offset);
        acked.push(id);
      } else {
        unknown.push(id);
      }
    }
    if (g !== undefined) this.advance(g);
    return { acked, unknown };
  }

  /** Gives deliveries back: each pending one is due again at now + delayMs, for any consumer (its attempt counted). O(ids). */
  nack(cmd: Nack): { nacked: string[]; unknown: string[] } {
    const nacked: string[] = [];
    const unknown: string[] = [];
    const g = this.byName.get(cmd.topic)?.groups.get(cmd.group);
    for (const id of cmd.ids) {
      const offset = offsetOf(cmd.topic, id);
      const p = offset === null ? undefined : g?.pending.get(offset);
      if (p === undefined) {
        unknown.push(id);
        continue;
      }
      p.consumer = null;
      p.deadline = cmd.now + cmd.delayMs;
      nacked.push(id);
    }
    return { nacked, unknown };
  }

  /**
   * Offsets and groups (sorted by name); null for a topic never published to. `lag`: messages at or
   * above committed not yet acknowledged; `inFlight`: delivered and not yet acknowledged (leased,
   * or waiting out a lapsed lease or a nack: a query has no clock to tell them apart).
   */
  info(name: string): TopicInfo | null {
    const t = this.byName.get(name);
    if (t === undefined) return null;
    const end = endOf(t);
    const groups = [...t.groups.entries()]
      .sort(([a], [b]) => compareNames(a, b))
      .map(([group, g]) => ({ group, committed: g.committed, lag: end - g.committed - g.acked.size, inFlight: g.pending.size }));
    return { topic: name, startOffset: t.start, endOffset: end, groups };
  }

  /** Up to min(limit, TOPIC_MAX_BATCH) messages from `from` (clamped to the start); leases nothing. */
  read(name: string, from: number, limit: number): TopicMessage[] {
    const t = this.byName.get(name);
    if (t === undefined) return [];
    const out: TopicMessage[] = [];
    const end = Math.min(endOf(t), Math.max(from, t.start) + Math.min(limit, TOPIC_MAX_BATCH));
    for (let offset = Math.max(from, t.start); offset < end; offset++) {
      const m = messageAt(t, offset);
      out.push({ id: `${name}/${offset}`, offset, key: m.key, value: m.value, headers: { ...m.headers } });
    }
    return out;
  }

  /** Every topic, sorted by name, for the snapshot. */
  records(): TopicRecord[] {
    return [...this.byName.entries()]
      .sort(([a], [b]) => compareNames(a, b))
      .map(([name, t]) => ({
        name,
        start: t.start,
        messages: t.messages.slice(t.head),
        groups: [...t.groups.entries()]
          .sort(([a], [b]) => compareNames(a, b))
          .map(([group, g]) => ({
            name: group,
            committed: g.committed,
            acked: [...g.acked].sort((a, b) => a - b),
            pending: [...g.pending.entries()].sort(([a], [b]) => a - b).map(([offset, p]) => ({ offset, ...p })),
          })),
      }));
  }

  load(records: TopicRecord[]): void {
    for (const r of records) {
      const groups = new Map<string, Group>();
      for (const g of r.groups) {
        const pending = new Map<number, Pending>();
        for (const p of g.pending) pending.set(p.offset, { consumer: p.consumer, attempt: p.attempt, deadline: p.deadline });
        groups.set(g.name, { committed: g.committed, acked: new Set(g.acked), pending });
      }
      this.byName.set(r.name, { start: r.start, messages: [...r.messages], head: 0, groups });
    }
  }

  private append(name: string, m: StoredMessage): { id: string; offset: number } {
    let t = this.byName.get(name);
    if (t === undefined) {
      t = { start: 0, messages: [], head: 0, groups: new Map() };
      this.byName.set(name, t);
    }
    const offset = endOf(t);
    t.messages.push(m);
    this.retain(t, m.publishedAt);
    return { id: `${name}/${offset}`, offset };
  }

  /** Drops the oldest messages past the count (and age) limits; groups behind the new start move up to it. */
  private retain(t: Topic, now: number): void {
    const { retainMessages, retainMs } = this.limits;
    const oldStart = t.start;
    while (t.messages.length - t.head > retainMessages || (retainMs > 0 && t.messages[t.head].publishedAt < now - retainMs)) {
      t.head++;
      t.start++;
    }
    if (t.start === oldStart) return;
    // Compact the array once the dropped prefix is most of it: each message is moved O(1) times.
    if (t.head > 1024 && t.head * 2 > t.messages.length) {
      t.messages = t.messages.slice(t.head);
      t.head = 0;
    }
    for (const g of t.groups.values()) {
      if (g.committed >= t.start) continue;
      // O(dropped) per group: only the offsets that went can hold state to forget.
      for (let offset = g.committed; offset < t.start; offset++) {
        g.acked.delete(offset);
        g.pending.delete(offset);
      }
      g.committed = t.start;
      this.advance(g);
    }
  }

  /** Published at the fetch's `now`: the dead letter topic's retention by age counts from when it got there. */
  private deadLetter(topic: string, offset: number, m: StoredMessage, attempts: number, now: number): void {
    const headers = { ...m.headers, 'x-original-topic': topic, 'x-original-offset': String(offset), 'x-attempts': String(attempts) };
    this.append(topic + DEAD_LETTER_SUFFIX, { key: m.key, value: m.value, headers: sortedHeaders(headers), publishedAt: now });
  }

  private acknowledge(g: Group, offset: number): void {
    g.pending.delete(offset);
    if (offset >= g.committed) g.acked.add(offset);
  }

  /** Moves committed over the acknowledged offsets right above it, forgetting them. */
  private advance(g: Group): void {
    while (g.acked.has(g.committed)) {
      g.acked.delete(g.committed);
      g.committed++;
    }
  }
}
