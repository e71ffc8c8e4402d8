import { SessionHeap, type HeapItem } from './session-heap';
import type { KvEffect } from './types';

/** One remembered client request: its first result, kept so that a retry gets it back unchanged. */
export interface Session extends HeapItem {
  id: string;
  result: KvEffect;
  /** The first request's fingerprint (undefined: it had none); a retry must carry the same. */
  fingerprint: string | undefined;
  /** False once expired or evicted (it may still sit in the FIFO until it reaches the front). */
  live: boolean;
}

/**
 * Client sessions (Raft dissertation §6.3): request id -> first result, for exactly-once commands.
 *
 * Expiry must be the same on every replica, so it uses no clock: time is `latestTs`, the largest
 * `ts` among applied commands, and a session is kept while `latestTs - session.ts <= ttlMs`. Past
 * `maxSessions` the oldest by applied order are evicted. Trade-off: once a session is gone, a retry
 * of that request is applied again as new — at-most-once holds only within the TTL / count window;
 * that is the price of bounded memory, and clients must not retry older requests. A proposer clock
 * far ahead expires sessions early (never late); all replicas still agree.
 *
 * The physical contents always equal the logical ones (nothing expired lingers), because they are
 * part of the snapshot and the digest: a replica restored from a snapshot and one that replayed the
 * log must evict the same sessions later.
 */
export class ClientSessions {
  private readonly byId = new Map<string, Session>();
  /** Sessions by ts, for expiry. */
  private readonly heap = new SessionHeap<Session>();
  /** Sessions in applied order, for eviction by count (a Map drained from the front degrades in V8). */
  private fifo: Session[] = [];
  private head = 0;
  private _latestTs = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
  ) {}

  get latestTs(): number {
    return this._latestTs;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Time moves on to `ts` (if later) and whatever it expires goes. Call before `lookup`. */
  advance(ts: number): void {
    if (ts > this._latestTs) this._latestTs = ts;
    this.expire();
  }

  lookup(id: string): KvEffect | undefined {
    return this.byId.get(id)?.result;
  }

  /** The remembered first request under `id`: its result and its fingerprint. */
  find(id: string): Readonly<Pick<Session, 'result' | 'fingerprint'>> | undefined {
    return this.byId.get(id);
  }

  /** Remembers a first result. `revision` is the applied position (orders sessions, strictly increasing). */
  record(id: string, ts: number, revision: number, result: KvEffect, fingerprint?: string): void {
    if (this._latestTs - ts > this.ttlMs || this.maxSessions <= 0) return; // already expired: never kept
    const s: Session = { id, ts, revision, result, fingerprint, live: true, heapIndex: -1 };
    this.byId.set(id, s);
    this.heap.push(s);
    this.fifo.push(s);
    this.evictOverCount();
  }

  /** Sessions in applied order. */
  *entries(): IterableIterator<Readonly<Session>> {
    for (let i = this.head; i < this.fifo.length; i++) if (this.fifo[i].live) yield this.fifo[i];
  }

  /** For restore: `latestTs`, then sessions in applied order; the limits are then enforced. */
  load(latestTs: number, sessions: Iterable<{ id: string; ts: number; result: KvEffect; fingerprint?: string }>): void {
    if (this.byId.size > 0 || this.head > 0) throw new Error('ClientSessions.load: not empty');
    this._latestTs = latestTs;
    let prev = -Infinity;
    for (const { id, ts, result, fingerprint } of sessions) {
      if (this.byId.has(id)) throw new Error(`ClientSessions.load: duplicate request id ${JSON.stringify(id)}`);
      if (!(result.revision > prev)) throw new Error('ClientSessions.load: sessions not in applied order');
      prev = result.revision;
      const s: Session = { id, ts, revision: result.revision, result, fingerprint, live: true, heapIndex: -1 };
      this.byId.set(id, s);
      this.heap.push(s);
      this.fifo.push(s);
    }
    this.expire();
    this.evictOverCount();
  }

  private expire(): void {
    for (let s = this.heap.peek(); s !== undefined && this._latestTs - s.ts > this.ttlMs; s = this.heap.peek()) {
      this.heap.remove(s);
      this.drop(s);
    }
  }

  private evictOverCount(): void {
    while (this.byId.size > this.maxSessions) {
      const s = this.fifo[this.head++];
      if (!s.live) continue;
      this.heap.remove(s);
      this.drop(s);
    }
    this.compactFifo();
  }

  private drop(s: Session): void {
    s.live = false;
    this.byId.delete(s.id);
  }

  /** Skips dead sessions at the front, and rebuilds once dead ones make up most of the FIFO. */
  private compactFifo(): void {
    while (this.head < this.fifo.length && !this.fifo[this.head].live) this.head++;
    const len = this.fifo.length - this.head;
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
    if (len > 1024 && len > 2 * this.byId.size) {
      this.fifo = this.fifo.slice(this.head).filter((s) => s.live);
      this.head = 0;
    }
  }
}
