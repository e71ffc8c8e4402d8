import { createHash } from 'node:crypto';
import { KvHistory, type Compacted } from './history';
import { KvLeases, type Lease } from './leases';
import { ClientSessions, type Remembered } from './sessions';
import { decodeSnapshot, encodeSnapshot, type KvSnapshotState } from './snapshot';
import { DEFAULT_TOPIC_MAX_ATTEMPTS, DEFAULT_TOPIC_RETAIN_MESSAGES, DEFAULT_TOPIC_RETAIN_MS, KvTopics, TOPIC_MAX_BATCH } from './topics';
import { runTxn } from './txn';
import {
  DEFAULT_HISTORY_BYTES,
  DEFAULT_HISTORY_EVENTS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_WINDOW,
  type KvEffect,
  type KvEvent,
  type KvItem,
  type KvOptions,
  type KvRequest,
  type KvResult,
  type TopicInfo,
  type TopicMessage,
} from './types';

interface Stored {
  value: string;
  /** modRevision */
  revision: number;
  createRevision: number;
  version: number;
  lease?: string;
}

function item(key: string, s: Stored): KvItem {
  const i: KvItem = { key, value: s.value, revision: s.revision, createRevision: s.createRevision, modRevision: s.revision, version: s.version };
  if (s.lease !== undefined) i.lease = s.lease;
  return i;
}

/** What a command may do to the store: txn.ts runs against this, so a transaction is the same code as a single put. */
export interface KvWriter {
  get(key: string): KvItem | null;
  list(prefix: string, limit: number): KvItem[];
  put(key: string, value: string, lease?: string): void;
  /** Whether a lease exists (a put naming a missing one is refused whole). */
  hasLease(id: string): boolean;
  /** false when the key did not exist. */
  delete(key: string): boolean;
}

/**
 * The replicated state machine both cores drive: a key-value map, its recent history and client sessions. Fully
 * deterministic — the same (revision, request) sequence gives the same results and the same
 * digest on every replica; it knows no time at all.
 *
 * Requests are trusted to be well-formed: they come out of the log through decodeRequest.
 */
export class KvStateMachine {
  private readonly data = new Map<string, Stored>();
  private readonly sessions: ClientSessions;
  private history: KvHistory;
  private readonly leases = new KvLeases();
  private readonly topics: KvTopics;
  private readonly leaseExpireQuorum: number;
  private _appliedRevision = 0;
  /** The changes of the command being applied, recorded in the history when it ends. */
  private changes: KvEvent[] = [];
  private readonly writer = this.makeWriter();
  /** Keys in sort order, rebuilt on demand after the key set changed (not on overwrites). */
  private sortedKeys: string[] | null = null;

  constructor(opts?: KvOptions) {
    this.sessions = new ClientSessions(opts?.sessionWindow ?? DEFAULT_SESSION_WINDOW, opts?.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.history = new KvHistory(opts?.historyEvents ?? DEFAULT_HISTORY_EVENTS, opts?.historyBytes ?? DEFAULT_HISTORY_BYTES);
    this.leaseExpireQuorum = opts?.leaseExpireQuorum ?? 1;
    this.topics = new KvTopics({
      // At least the message just published is kept, and one attempt is made.
      retainMessages: Math.max(1, opts?.topicRetainMessages ?? DEFAULT_TOPIC_RETAIN_MESSAGES),
      retainMs: Math.max(0, opts?.topicRetainMs ?? DEFAULT_TOPIC_RETAIN_MS),
      maxAttempts: Math.max(1, opts?.topicMaxAttempts ?? DEFAULT_TOPIC_MAX_ATTEMPTS),
    });
  }

  /** A topic's offsets and groups; null for a topic never published to (topics.ts). */
  topicInfo(topic: string): TopicInfo | null {
    return this.topics.info(topic);
  }

  /** Up to min(limit, 1000) messages of a topic from offset `from` (clamped to the oldest kept), leasing nothing. */
  topicRead(topic: string, from: number, limit: number): TopicMessage[] {
    return this.topics.read(topic, from, Math.min(limit, TOPIC_MAX_BATCH));
  }

  /** A lease by id: its TTL, the revision of its last renewal, its keys (sorted). */
  lease(id: string): { id: string; ttlSeconds: number; renewedAt: number; keys: string[] } | null {
    const l = this.leases.get(id);
    return l === undefined ? null : { id: l.id, ttlSeconds: l.ttlSeconds, renewedAt: l.renewedAt, keys: [...l.keys].sort(compareKeys) };
  }

  /** Every lease, for a replica that starts to decide expiry (lease-clock.ts). */
  allLeases(): Array<{ id: string; ttlSeconds: number; renewedAt: number }> {
    return this.leases.all().map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds, renewedAt: l.renewedAt }));
  }

  /** History at or below this revision is gone: reads and watches from before it answer `compacted`. */
  get compactRevision(): number {
    return this.history.compactRevision;
  }

  get appliedRevision(): number {
    return this._appliedRevision;
  }

  /** Number of keys. */
  get size(): number {
    return this.data.size;
  }

  /** Topic messages kept, every topic together: state the digest covers besides the keys. */
  get topicMessageCount(): number {
    return this.topics.messageCount;
  }

  /** Remembered request results, every client together. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Clients with a live session, and clients dropped for good (tombstones). */
  get sessionClients(): { live: number; dropped: number } {
    return { live: this.sessions.clientCount, dropped: this.sessions.tombstoneCount };
  }

  /**
   * Applies one command at log position `revision` (strictly increasing). A request id its session
   * remembers has no effect: with the first request's fingerprint (a retry) it returns the first
   * result unchanged; with another (the id reused for a different request) a `conflict`. An id its
   * session can no longer vouch for is `refused` (sessions.ts): exactly-once fails closed. Neither
   * is remembered. Throws, changing nothing, on a bad position or unknown op.
   */
  apply(revision: number, req: KvRequest): KvResult {
    this.checkPosition(revision);
    const cmd = req.cmd;
    if (!KNOWN_OPS.has(cmd.op)) {
      throw new Error(`KvStateMachine.apply: unknown op ${JSON.stringify((cmd as { op: unknown }).op)}`);
    }
    this._appliedRevision = revision;
    // Topic commands have a message key, not a store key: '' as for the other commands without one.
    const key = 'key' in cmd && !cmd.op.startsWith('topic-') ? (cmd.key ?? '') : '';
    const verdict = this.sessions.check(req.id);
    if (verdict.kind === 'refused') return { op: 'refused', key, reason: verdict.reason, revision };
    if (verdict.kind === 'retry') {
      if (verdict.first.fingerprint !== req.fingerprint) return { op: 'conflict', key, revision };
      return copy(verdict.first.result);
    }

    const w = this.writer;
    let result: KvEffect;
    switch (cmd.op) {
      case 'put':
        if (cmd.lease !== undefined && !w.hasLease(cmd.lease)) {
          result = { op: 'no-lease', id: cmd.lease, revision };
          break;
        }
        w.put(cmd.key, cmd.value, cmd.lease);
        result = { op: 'put', key: cmd.key, value: cmd.value, revision };
        break;
      case 'delete':
        result = { op: 'delete', key: cmd.key, deleted: w.delete(cmd.key), revision };
        break;
      case 'cas': {
        const stored = this.data.get(cmd.key);
        const current = stored?.value ?? null;
        if (current === cmd.expected) {
          // A cas changes the value, not the key's lease (a put without one would detach it).
          w.put(cmd.key, cmd.value, stored?.lease);
          result = { op: 'cas', key: cmd.key, succeeded: true, value: cmd.value, revision };
        } else {
          result = { op: 'cas', key: cmd.key, succeeded: false, value: current, revision };
        }
        break;
      }
      case 'txn': {
        const outcome = runTxn(cmd, w, revision);
        result = 'missingLease' in outcome ? { op: 'no-lease', id: outcome.missingLease, revision } : { op: 'txn', ...outcome, revision };
        break;
      }
      case 'lease-grant': {
        const lease = this.leases.grant(cmd.ttlSeconds, revision);
        result = { op: 'lease-grant', id: lease.id, ttlSeconds: lease.ttlSeconds, revision };
        break;
      }
      case 'lease-keepalive': {
        const lease = this.leases.renew(cmd.id, revision);
        result = { op: 'lease-keepalive', id: cmd.id, found: lease !== undefined, ttlSeconds: lease?.ttlSeconds ?? 0, revision };
        break;
      }
      case 'lease-revoke': {
        const lease = this.leases.remove(cmd.id);
        result = { op: 'lease-revoke', id: cmd.id, found: lease !== undefined, deleted: this.deleteKeysOf(lease), revision };
        break;
      }
      case 'lease-expire': {
        const expired = this.leases.voteExpired(cmd.id, cmd.renewedAt, cmd.voter, this.leaseExpireQuorum);
        const deleted = expired ? this.deleteKeysOf(this.leases.remove(cmd.id)) : [];
        result = { op: 'lease-expire', id: cmd.id, expired, deleted, revision };
        break;
      }
      case 'topic-publish':
        result = { op: cmd.op, topic: cmd.topic, ...this.topics.publish(cmd), revision };
        break;
      case 'topic-fetch':
        result = { op: cmd.op, topic: cmd.topic, group: cmd.group, messages: this.topics.fetch(cmd), revision };
        break;
      case 'topic-ack':
        result = { op: cmd.op, topic: cmd.topic, group: cmd.group, ...this.topics.ack(cmd), revision };
        break;
      case 'topic-nack':
        result = { op: cmd.op, topic: cmd.topic, group: cmd.group, ...this.topics.nack(cmd), revision };
        break;
      case 'compact':
        // Never past the revision before this one: the point is a revision whose state is known.
        this.history.compact(Math.min(cmd.revision, revision - 1));
        result = { op: 'compact', compactRevision: this.history.compactRevision, revision };
        break;
    }
    if (this.changes.length > 0) {
      this.history.record(this.changes);
      this.changes = [];
    }
    // The cache keeps its own copy: a caller mutating what it got back must not change a retry's answer.
    this.sessions.record(req.id, copy(result), req.fingerprint);
    return result;
  }

  /** A position that carries no command (Raft no-op entries, PBFT null requests). */
  skip(revision: number): void {
    this.checkPosition(revision);
    this._appliedRevision = revision;
  }

  get(key: string): KvItem | null {
    const s = this.data.get(key);
    return s === undefined ? null : item(key, s);
  }

  /**
   * At most `limit` items whose key starts with `prefix`, sorted by key (UTF-16 code unit order),
   * and only keys after `after` when given: the next page starts after the last key of this one.
   */
  list(prefix: string, limit: number, after?: string): KvItem[] {
    const out: KvItem[] = [];
    if (!(limit > 0)) return out;
    const keys = this.keysInOrder();
    let i = lowerBound(keys, after !== undefined && after > prefix ? after : prefix);
    if (after !== undefined && keys[i] === after) i++;
    for (; i < keys.length && out.length < limit; i++) {
      const key = keys[i];
      if (!key.startsWith(prefix)) break;
      out.push(item(key, this.data.get(key) as Stored));
    }
    return out;
  }

  /**
   * The key as it was at `revision` (at most the applied one), or `compacted` when the history no
   * longer reaches back that far.
   */
  getAt(key: string, revision: number): KvItem | null | Compacted {
    return this.history.at(key, revision, this.get(key));
  }

  /**
   * Up to about `limit` changes after revision `after` to keys that `match` (whole revisions), or
   * `compacted` when some of them are gone.
   */
  changesSince(after: number, match: (key: string) => boolean, limit: number): KvEvent[] | Compacted {
    return this.history.since(after, match, limit);
  }

  /** Everything — data, history, sessions, appliedRevision — in a canonical encoding. */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.state());
  }

  static restore(bytes: Uint8Array, opts?: KvOptions): KvStateMachine {
    const s = decodeSnapshot(bytes);
    const sm = new KvStateMachine(opts);
    sm._appliedRevision = s.appliedRevision;
    sm.history = KvHistory.from(s.compactRevision, s.history, sm.history.maxEvents, sm.history.maxBytes);
    sm.leases.load(s.leases);
    sm.topics.load(s.topics);
    for (const d of s.data) {
      sm.data.set(d.key, {
        value: d.value,
        revision: d.revision,
        createRevision: d.createRevision,
        version: d.version,
        ...(d.lease === undefined ? {} : { lease: d.lease }),
      });
      if (d.lease !== undefined) sm.leases.attach(d.lease, d.key);
    }
    sm.sessions.load(
      s.sessions.map((x) => ({
        client: x.client,
        maxSeq: x.maxSeq,
        results: x.results.map((r): [number, Remembered] => [r.seq, { result: r.result, fingerprint: r.fingerprint }]),
      })),
      s.tombstones,
    );
    return sm;
  }

  /** Hex SHA-256 of the canonical snapshot: equal states give equal digests. O(state). */
  digest(): string {
    return createHash('sha256').update(this.snapshot()).digest('hex');
  }

  private state(): KvSnapshotState {
    const data: KvSnapshotState['data'] = [];
    for (const key of this.keysInOrder()) {
      const s = this.data.get(key) as Stored;
      data.push({
        key,
        value: s.value,
        revision: s.revision,
        createRevision: s.createRevision,
        version: s.version,
        ...(s.lease === undefined ? {} : { lease: s.lease }),
      });
    }
    const sessions: KvSnapshotState['sessions'] = [];
    for (const x of this.sessions.entries()) {
      const results = x.results.map(([seq, r]) => ({ seq, result: r.result, ...(r.fingerprint === undefined ? {} : { fingerprint: r.fingerprint }) }));
      sessions.push({ client: x.client, maxSeq: x.maxSeq, results });
    }
    return {
      appliedRevision: this._appliedRevision,
      data,
      sessions,
      tombstones: this.sessions.tombstoneList(),
      compactRevision: this.history.compactRevision,
      history: this.history.all(),
      leases: this.leases.all().map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds, renewedAt: l.renewedAt, votes: l.votes })),
      topics: this.topics.records(),
    };
  }

  /** Writes at the revision being applied, each change noted for the history. */
  private makeWriter(): KvWriter {
    return {
      get: (key) => this.get(key),
      list: (prefix, limit) => this.list(prefix, limit),
      hasLease: (id) => this.leases.get(id) !== undefined,
      put: (key, value, lease) => {
        const revision = this._appliedRevision;
        const s = this.data.get(key);
        if (s?.lease !== undefined && s.lease !== lease) this.leases.detach(s.lease, key);
        if (lease !== undefined) this.leases.attach(lease, key);
        const prev = s === undefined ? null : { value: s.value, modRevision: s.revision, createRevision: s.createRevision, version: s.version };
        if (s === undefined) {
          this.data.set(key, { value, revision, createRevision: revision, version: 1, ...(lease === undefined ? {} : { lease }) });
          this.sortedKeys = null;
          this.changes.push({ key, revision, value, createRevision: revision, version: 1, prev });
        } else {
          s.value = value;
          s.revision = revision;
          s.version++;
          if (lease === undefined) delete s.lease;
          else s.lease = lease;
          this.changes.push({ key, revision, value, createRevision: s.createRevision, version: s.version, prev });
        }
      },
      delete: (key) => {
        const s = this.data.get(key);
        if (s === undefined) return false;
        const revision = this._appliedRevision;
        if (s.lease !== undefined) this.leases.detach(s.lease, key);
        this.data.delete(key);
        this.sortedKeys = null;
        this.changes.push({
          key,
          revision,
          value: null,
          createRevision: 0,
          version: 0,
          prev: { value: s.value, modRevision: s.revision, createRevision: s.createRevision, version: s.version },
        });
        return true;
      },
    };
  }

  /** Deletes a removed lease's keys (at the revision being applied), sorted; [] for none. */
  private deleteKeysOf(lease: Lease | undefined): string[] {
    if (lease === undefined) return [];
    const keys = [...lease.keys].sort(compareKeys);
    for (const key of keys) this.writer.delete(key);
    return keys;
  }

  private keysInOrder(): string[] {
    if (this.sortedKeys === null) this.sortedKeys = [...this.data.keys()].sort(compareKeys);
    return this.sortedKeys;
  }

  private checkPosition(revision: number): void {
    if (!Number.isSafeInteger(revision) || revision <= this._appliedRevision) {
      throw new Error(`KvStateMachine: position ${revision} is not after appliedRevision ${this._appliedRevision}`);
    }
  }
}

const KNOWN_OPS = new Set([
  'put',
  'delete',
  'cas',
  'txn',
  'compact',
  'lease-grant',
  'lease-keepalive',
  'lease-revoke',
  'lease-expire',
  'topic-publish',
  'topic-fetch',
  'topic-ack',
  'topic-nack',
]);

/** Results that hold arrays or objects; everything else is copied flat (the hot path). */
const NESTED_RESULTS = new Set(['txn', 'lease-revoke', 'lease-expire', 'topic-fetch', 'topic-ack', 'topic-nack']);

function copy(r: KvEffect): KvEffect {
  return NESTED_RESULTS.has(r.op) ? structuredClone(r) : { ...r };
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose key is >= `prefix`. */
function lowerBound(keys: string[], prefix: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
