import { createHash } from 'node:crypto';
import type { Checkpoint, ClientRequest, Commit, CommitCertificate, PbftMessage, PreparedCertificate, PrePrepare, Prepare, Reply, ViewChange } from './types';

/**
 * Canonical binary encoding of what is signed: a type tag, then the fields in a fixed order,
 * each length-prefixed. Two equal messages always give the same bytes, and no two different
 * messages give the same bytes (every variable-length field carries its length).
 */
const utf8 = new TextEncoder();
// Globals read once: Jest's sandbox makes every lookup of Math, Number, Uint8Array... slow.
const { isSafeInteger } = Number;
const { floor } = Math;
const Bytes = Uint8Array;
const View = DataView;

class Writer {
  private buf = new Bytes(1024);
  private view = new View(this.buf.buffer);
  private len = 0;

  reset(): this {
    this.len = 0;
    return this;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Bytes(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new View(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  /** Non-negative integers up to 2^53 as LEB128. */
  uint(v: number): void {
    if (!isSafeInteger(v) || v < 0) throw new Error(`pbft codec: not a non-negative integer: ${v}`);
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.len, v);
    this.len += 8;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  str(s: string): void {
    // At most 3 bytes per UTF-16 unit; the length prefix is written once the size is known.
    this.room(s.length * 3 + 8);
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.uint(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
      return;
    }
    this.bytes(utf8.encode(s));
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A copy: the writer's buffer is reused. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One scratch writer: encoding is synchronous and never re-entered. */
const scratch = new Writer();

const TAG = {
  Request: 1,
  Forward: 2,
  PrePrepare: 3,
  Prepare: 4,
  Commit: 5,
  Checkpoint: 6,
  ViewChange: 7,
  NewView: 8,
  Status: 9,
  FetchState: 10,
  State: 11,
  FetchCommitted: 12,
  Committed: 13,
  Reply: 14,
} as const;

function writeRequestBody(w: Writer, r: ClientRequest): void {
  w.u8(TAG.Request);
  w.str(r.client);
  w.str(r.id);
  w.f64(r.ts);
  w.bytes(r.op);
}

function writeRequest(w: Writer, r: ClientRequest): void {
  writeRequestBody(w, r);
  w.bytes(r.sig);
}

function writeVote(w: Writer, tag: number, m: PrePrepare | Prepare | Commit, withSig: boolean): void {
  w.u8(tag);
  w.str(m.from);
  w.uint(m.view);
  w.uint(m.seq);
  w.str(m.digest);
  if (withSig) w.bytes(m.sig);
}

function writeCheckpoint(w: Writer, c: Checkpoint, withSig: boolean): void {
  w.u8(TAG.Checkpoint);
  w.str(c.from);
  w.uint(c.seq);
  w.str(c.digest);
  if (withSig) w.bytes(c.sig);
}

function writePrepared(w: Writer, p: PreparedCertificate): void {
  writeVote(w, TAG.PrePrepare, p.prePrepare, true);
  w.uint(p.prepares.length);
  for (const q of p.prepares) writeVote(w, TAG.Prepare, q, true);
}

function writeViewChange(w: Writer, m: ViewChange, withSig: boolean): void {
  w.u8(TAG.ViewChange);
  w.str(m.from);
  w.uint(m.view);
  w.uint(m.stableSeq);
  w.uint(m.checkpointProof.length);
  for (const c of m.checkpointProof) writeCheckpoint(w, c, true);
  w.uint(m.prepared.length);
  for (const p of m.prepared) writePrepared(w, p);
  if (withSig) w.bytes(m.sig);
}

function writeCommitCertificate(w: Writer, c: CommitCertificate): void {
  w.uint(c.view);
  w.uint(c.seq);
  w.str(c.digest);
  w.uint(c.commits.length);
  for (const m of c.commits) writeVote(w, TAG.Commit, m, true);
}

function writeMessage(w: Writer, m: PbftMessage): void {
  switch (m.type) {
    case 'Forward':
      w.u8(TAG.Forward);
      w.str(m.from);
      w.uint(m.view);
      w.uint(m.requests.length);
      for (const r of m.requests) writeRequest(w, r);
      return;
    case 'PrePrepare':
      return writeVote(w, TAG.PrePrepare, m, false);
    case 'Prepare':
      return writeVote(w, TAG.Prepare, m, false);
    case 'Commit':
      return writeVote(w, TAG.Commit, m, false);
    case 'Checkpoint':
      return writeCheckpoint(w, m, false);
    case 'ViewChange':
      return writeViewChange(w, m, false);
    case 'NewView':
      w.u8(TAG.NewView);
      w.str(m.from);
      w.uint(m.view);
      w.uint(m.viewChanges.length);
      for (const vc of m.viewChanges) writeViewChange(w, vc, true);
      w.uint(m.prePrepares.length);
      for (const pp of m.prePrepares) writeVote(w, TAG.PrePrepare, pp, true);
      return;
    case 'Status':
      w.u8(TAG.Status);
      w.str(m.from);
      w.uint(m.view);
      w.bool(m.active);
      w.uint(m.stableSeq);
      w.uint(m.lastExecuted);
      w.uint(m.slots.length);
      for (const s of m.slots) w.uint(s);
      return;
    case 'FetchState':
      w.u8(TAG.FetchState);
      w.str(m.from);
      w.uint(m.seq);
      return;
    case 'State':
      w.u8(TAG.State);
      w.str(m.from);
      w.uint(m.seq);
      w.str(m.digest);
      w.uint(m.position);
      w.uint(m.proof.length);
      for (const c of m.proof) writeCheckpoint(w, c, true);
      return;
    case 'FetchCommitted':
      w.u8(TAG.FetchCommitted);
      w.str(m.from);
      w.uint(m.after);
      return;
    case 'Committed':
      w.u8(TAG.Committed);
      w.str(m.from);
      w.uint(m.certificates.length);
      for (const c of m.certificates) writeCommitCertificate(w, c);
      return;
  }
}

/**
 * The bytes a replica signs: the message without `sig` and `to`. Batches travel outside the
 * signature (pre-prepares, certificates) and are bound by their digests; a snapshot is bound by
 * the certified checkpoint digest it must reproduce.
 */
export function signingPayload(m: PbftMessage): Uint8Array {
  const w = scratch.reset();
  writeMessage(w, m);
  return w.finish();
}

/** The bytes a client signs: the request without its signature. */
export function requestPayload(r: Omit<ClientRequest, 'sig'>): Uint8Array {
  const w = scratch.reset();
  writeRequestBody(w, r as ClientRequest);
  return w.finish();
}

export function replyPayload(r: Omit<Reply, 'sig'>): Uint8Array {
  const w = scratch.reset();
  w.u8(TAG.Reply);
  w.str(r.from);
  w.str(r.to);
  w.uint(r.view);
  w.str(r.id);
  w.bytes(r.result);
  return w.finish();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// Digests are memoised per object: messages are immutable once built, and the same request is
// hashed by every check a batch goes through.
const requestDigests = new WeakMap<ClientRequest, string>();
const batchDigests = new WeakMap<ClientRequest[], string>();

/** Digest of a request's signed content (the signature is checked separately). */
export function requestDigest(r: ClientRequest): string {
  let d = requestDigests.get(r);
  if (d === undefined) {
    d = sha256Hex(requestPayload(r));
    requestDigests.set(r, d);
  }
  return d;
}

/** Digest of a batch: its requests' digests in order. The empty batch is the null request. */
export function batchDigest(requests: ClientRequest[]): string {
  let d = batchDigests.get(requests);
  if (d === undefined) {
    const h = createHash('sha256');
    h.update(`batch:${requests.length}`);
    for (const r of requests) h.update(requestDigest(r));
    d = h.digest('hex');
    batchDigests.set(requests, d);
  }
  return d;
}

export const NULL_DIGEST = batchDigest([]);

/** A checkpoint's state digest: the app's digest and the position counter (both replicated state). */
export function checkpointDigest(position: number, appDigest: string): string {
  return sha256Hex(`checkpoint:${position}:${appDigest}`);
}

/**
 * Whose key signs a client's requests: `gateway/gw-1a2b` signs as `gateway`. Each gateway process is
 * a client of its own (its timestamps, its replies), all of them under the one gateway key.
 */
export function clientSigner(client: string): string {
  return client.split('/', 1)[0];
}

/** A request's identity for deduplication and timers. */
export function requestKey(r: { client: string; id: string }): string {
  return `${r.client}\u0000${r.id}`;
}
