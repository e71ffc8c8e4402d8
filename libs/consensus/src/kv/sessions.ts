import { createHash } from 'node:crypto';
import type { KvEffect, RefusalReason } from './types';

/** A request id as sessions see it: `<client>/<seq>` (seq 1, 2, …), or any other id as a one-shot client (seq 0). */
export interface SessionRequestId {
  client: string;
  seq: number;
}

// Up to 15 digits: always a safe integer. No leading zero, so one seq has one spelling.
const SEQ = /^[1-9][0-9]{0,14}$/;

export function parseRequestId(id: string): SessionRequestId {
  const slash = id.lastIndexOf('/');
  if (slash > 0 && SEQ.test(id.slice(slash + 1))) return { client: id.slice(0, slash), seq: Number(id.slice(slash + 1)) };
  return { client: id, seq: 0 };
}

/** What a remembered request gave: its first result, and the fingerprint a retry must carry. */
export interface Remembered {
  result: KvEffect;
  /** undefined: the first request had none. */
  fingerprint: string | undefined;
}

export type SessionVerdict = { kind: 'new' } | { kind: 'retry'; first: Readonly<Remembered> } | { kind: 'refused'; reason: RefusalReason };

/** One client's session, in the LRU list of all sessions. */
interface Session {
  client: string;
  /** Highest seq executed. Every executed seq above `maxSeq - window` is in `results`. */
  maxSeq: number;
  results: Map<number, Remembered>;
  prev: Session | null;
  next: Session | null;
}

/** Length of a tombstone, in hex digits of SHA-256 (64 bits: a collision refuses a new client, never re-applies). */
const TOMBSTONE_HEX = 16;

export function tombstoneOf(client: string): string {
  return createHash('sha256').update(client).digest('hex').slice(0, TOMBSTONE_HEX);
}

/**
 * Client sessions (Raft dissertation §6.3) that fail closed: exactly-once never depends on a time
 * window.
 *
 * - Each client keeps the results of its `window` most recent request seqs. A retry of one of them
 *   gets the first result; a seq at or below `maxSeq - window` that is not remembered is refused
 *   (`outside-window`): it may have been applied, and nothing can tell any more.
 * - At most `maxRemembered` results are kept in all; past that the least recently active clients
 *   (activity = a newly applied request; a retry is not) are dropped whole, and each leaves a
 *   64-bit tombstone (a hash of its name): every later request of a dropped client is refused
 *   (`session-expired`) — the client must pick a new name. Tombstones are never dropped: 8 bytes
 *   per dropped client is the price of never applying twice.
 * - Nothing here reads a clock: windows move by the client's own seqs and eviction by applied
 *   order, so every replica decides the same, whatever the proposers' clocks say.
 *
 * A one-shot id (no `/<seq>`) is a client of its own with the one seq 0: it is remembered until its
 * client is dropped, then refused. `<client>/<seq>` ids keep memory bounded per client.
 */
export class ClientSessions {
  private readonly byClient = new Map<string, Session>();
  /** Least recently active first. */
  private head: Session | null = null;
  private tail: Session | null = null;
  private remembered = 0;
  private readonly tombstones = new Set<string>();

  constructor(
    readonly window: number,
    readonly maxRemembered: number,
  ) {
    if (!Number.isSafeInteger(window) || window < 1) throw new Error(`ClientSessions: window must be an integer >= 1, got ${window}`);
    if (!Number.isSafeInteger(maxRemembered) || maxRemembered < window) {
      throw new Error(`ClientSessions: maxRemembered must be an integer >= window (${window}), got ${maxRemembered}`);
    }
  }

  /** Results remembered, all clients together. */
  get size(): number {
    return this.remembered;
  }

  get clientCount(): number {
    return this.byClient.size;
  }

  get tombstoneCount(): number {
    return this.tombstones.size;
  }

  /** What to do with request `id`. Changes nothing. */
  check(id: string): SessionVerdict {
    const { client, seq } = parseRequestId(id);
    const s = this.byClient.get(client);
    if (s === undefined) return this.tombstones.has(tombstoneOf(client)) ? { kind: 'refused', reason: 'session-expired' } : { kind: 'new' };
    const first = s.results.get(seq);
    if (first !== undefined) return { kind: 'retry', first };
    return seq <= s.maxSeq - this.window ? { kind: 'refused', reason: 'outside-window' } : { kind: 'new' };
  }

  /** Remembers the first result of request `id`, which `check` called new. */
  record(id: string, result: KvEffect, fingerprint: string | undefined): void {
    const { client, seq } = parseRequestId(id);
    let s = this.byClient.get(client);
    if (s === undefined) {
      s = { client, maxSeq: 0, results: new Map(), prev: null, next: null };
      this.byClient.set(client, s);
    } else {
      this.unlink(s);
    }
    this.append(s);
    s.results.set(seq, { result, fingerprint });
    this.remembered++;
    if (seq > s.maxSeq) {
      const previous = s.maxSeq;
      s.maxSeq = seq;
      this.trimWindow(s, previous);
    }
    while (this.remembered > this.maxRemembered && this.head !== s) this.drop(this.head as Session);
  }

  /** Sessions least recently active first; each one's results by ascending seq. */
  *entries(): IterableIterator<{ client: string; maxSeq: number; results: Array<[number, Readonly<Remembered>]> }> {
    for (let s = this.head; s !== null; s = s.next) {
      yield { client: s.client, maxSeq: s.maxSeq, results: [...s.results].sort((a, b) => a[0] - b[0]) };
    }
  }

  /** Tombstones in sort order. */
  tombstoneList(): string[] {
    return [...this.tombstones].sort();
  }

  /** For restore, into an empty instance: sessions least recently active first; then the limits are enforced. */
  load(sessions: Iterable<{ client: string; maxSeq: number; results: Iterable<[number, Remembered]> }>, tombstones: Iterable<string>): void {
    if (this.byClient.size > 0 || this.tombstones.size > 0) throw new Error('ClientSessions.load: not empty');
    for (const t of tombstones) this.tombstones.add(t);
    for (const { client, maxSeq, results } of sessions) {
      if (this.byClient.has(client)) throw new Error(`ClientSessions.load: duplicate client ${JSON.stringify(client)}`);
      const s: Session = { client, maxSeq, results: new Map(), prev: null, next: null };
      for (const [seq, r] of results) {
        if (seq > maxSeq) throw new Error(`ClientSessions.load: seq ${seq} above maxSeq ${maxSeq}`);
        s.results.set(seq, r);
      }
      this.byClient.set(client, s);
      this.append(s);
      this.remembered += s.results.size;
      this.trimWindow(s, -Infinity);
    }
    while (this.remembered > this.maxRemembered && this.head !== null) this.drop(this.head);
  }

  /**
   * Forgets the results that fell out of the window: their seqs are refused from now on. Only seqs
   * in (previous floor, floor] can have fallen out; walks that range, or the results if fewer.
   */
  private trimWindow(s: Session, previousMaxSeq: number): void {
    const floor = s.maxSeq - this.window;
    const from = Math.max(previousMaxSeq - this.window, -1);
    if (floor <= from) return;
    const forget = (seq: number): void => {
      if (s.results.delete(seq)) this.remembered--;
    };
    if (floor - from <= s.results.size) for (let seq = from + 1; seq <= floor; seq++) forget(seq);
    else for (const seq of [...s.results.keys()]) if (seq <= floor) forget(seq);
  }

  private drop(s: Session): void {
    this.unlink(s);
    this.byClient.delete(s.client);
    this.remembered -= s.results.size;
    this.tombstones.add(tombstoneOf(s.client));
  }

  private append(s: Session): void {
    s.prev = this.tail;
    s.next = null;
    if (this.tail !== null) this.tail.next = s;
    else this.head = s;
    this.tail = s;
  }

  private unlink(s: Session): void {
    if (s.prev !== null) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next !== null) s.next.prev = s.prev;
    else this.tail = s.prev;
    s.prev = s.next = null;
  }
}
