import { createHash, createHmac, diffieHellman, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { encodeFrame, type FrameHeader, packBody, splitFrame, unpackBody } from './frame';
import { ReplayWindow } from './replay-window';

/**
 * Frame authentication: who may say what on the bus.
 *
 * Principals. Every replica is a principal of its own; every other endpoint (gateways, test
 * clients, tools) speaks as the one client principal `gateway`. Each principal has an X25519 key
 * pair; any two principals share a key derived from their Diffie-Hellman secret, so a process holds
 * only its own private key and everyone's public keys, and a replica's key cannot speak for another
 * replica.
 *
 * MACs. A frame carries one HMAC-SHA256 (truncated to 128 bits) per principal it is meant for —
 * one for a direct frame, one per peer for a broadcast — over the channel it is published on, its
 * sender, the sender's incarnation and sequence number, the receiver's incarnation and the body's
 * SHA-256 (the body is hashed once, however many receivers).
 * So a frame cannot be forged, altered, moved to another channel or credited to another sender.
 *
 * Replays. An incarnation is a larger number at each start of the sender (its start time in ms); a
 * receiver keeps, per sender, the newest incarnation it has seen and, per channel, a window of its
 * sequence numbers from the first one it heard there, and refuses older incarnations, repeats, and
 * anything sent before that first frame. A direct frame also names the receiver's incarnation once the sender has
 * heard from it, so a frame captured before a receiver restarted is refused by the new one;
 * control commands must name it (`strict`). What is left: frames replayed to a receiver that has
 * just started, before the sender's first genuine frame reaches it, are taken once — Raft and PBFT
 * tolerate duplicated and delayed messages by design, and control commands are strict.
 */

export const CLIENT_PRINCIPAL = 'gateway';

/** Why a frame was refused; each is counted. */
export const REJECT_REASONS = ['unknownSender', 'badMac', 'replayed', 'staleIncarnation'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface BusKeys {
  /** This principal's X25519 private key. */
  privateKey: KeyObject;
  /** Every principal's X25519 public key, this one's included. */
  publicKeys: Record<string, KeyObject>;
}

export interface FrameAuthOptions {
  cluster: string;
  /** This endpoint's id. */
  self: string;
  /** The replica ids: each its own principal; any other endpoint is CLIENT_PRINCIPAL. */
  replicas: string[];
  keys: BusKeys;
  /** Default: the time now in ms, which grows from one start of a process to the next. */
  incarnation?: number;
  /**
   * TEST ONLY (default true). false accepts every well-formed frame unchecked: the canary that shows
   * the attack tests fail without authentication.
   */
  verify?: boolean;
}

export interface Opened {
  from: string;
  inc: number;
  body: unknown;
}

const MAC_BYTES = 16;
// Replay state is kept for this many client endpoints at most (the oldest is forgotten first): only
// keyholders create entries, but the gateway key may be held by many short-lived clients.
const MAX_CLIENT_SENDERS = 4096;

interface SenderState {
  inc: number;
  windows: Map<string, ReplayWindow>; // by channel
}

export class FrameAuth {
  readonly incarnation: number;
  readonly principal: string;
  readonly verify: boolean;
  readonly rejected: Record<RejectReason, number> = { unknownSender: 0, badMac: 0, replayed: 0, staleIncarnation: 0 };
  private readonly replicas: ReadonlySet<string>;
  private readonly pairKeys = new Map<string, Buffer>(); // principal -> shared key
  private readonly replicaSenders = new Map<string, SenderState>();
  private readonly clientSenders = new Map<string, SenderState>();
  private seq = 0;

  constructor(private readonly o: FrameAuthOptions) {
    this.replicas = new Set(o.replicas);
    this.principal = this.principalOf(o.self);
    this.incarnation = o.incarnation ?? Date.now();
    this.verify = o.verify ?? true;
    if (!o.keys.publicKeys[this.principal]) throw new Error(`bus keys: no public key for ${this.principal}`);
    for (const [principal, publicKey] of Object.entries(o.keys.publicKeys)) {
      const secret = diffieHellman({ privateKey: o.keys.privateKey, publicKey });
      const info = [this.principal, principal].sort().join('|');
      this.pairKeys.set(principal, Buffer.from(hkdfSync('sha256', secret, `synod-bus:${o.cluster}`, info, 32)));
    }
  }

  principalOf(endpoint: string): string {
    return this.replicas.has(endpoint) ? endpoint : CLIENT_PRINCIPAL;
  }

  /** The newest incarnation heard from `endpoint`, if any frame of it was accepted. */
  incarnationOf(endpoint: string): number | undefined {
    return (this.replicas.has(endpoint) ? this.replicaSenders : this.clientSenders).get(endpoint)?.inc;
  }

  /** A frame for the principals in `audience`, to be published on `channel`. */
  seal(channel: string, body: unknown, audience: Iterable<string>, toInc = 0): Buffer {
    const bytes = packBody(body);
    const header: FrameHeader = { from: this.o.self, inc: this.incarnation, seq: ++this.seq, toInc, macs: {} };
    const bodyHash = sha256(bytes); // once, however many receivers
    for (const principal of audience) {
      const key = this.pairKeys.get(principal);
      if (key) header.macs[principal] = mac(key, channel, header, bodyHash);
    }
    return encodeFrame(header, bytes);
  }

  /** A direct frame to one endpoint, bound to its incarnation when known. */
  sealTo(channel: string, to: string, body: unknown): Buffer {
    return this.seal(channel, body, [this.principalOf(to)], this.incarnationOf(to) ?? 0);
  }

  /**
   * The frame's sender and body when it is authentic and new; 'malformed' for bytes that are no
   * frame; otherwise the reason it is refused. `strict`: the frame must name this incarnation.
   * `ignoreFrom`: null, unchecked, for a frame from that endpoint (our own, heard back on a topic).
   */
  open(channel: string, buf: Buffer, opts: { strict?: boolean; ignoreFrom?: string } = {}): Opened | 'malformed' | RejectReason | null {
    const split = splitFrame(buf);
    if (!split) return 'malformed';
    const { header, body } = split;
    if (header.from === opts.ignoreFrom) return null;
    const strict = opts.strict ?? false;
    if (this.verify) {
      const key = this.pairKeys.get(this.principalOf(header.from));
      if (!key) return this.refuse('unknownSender');
      const given = header.macs[this.principal];
      if (!(given instanceof Uint8Array) || given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key, channel, header, sha256(body))))
        return this.refuse('badMac');
      // Authentic from here on: the checks below are about freshness.
      if (strict ? header.toInc !== this.incarnation : header.toInc !== 0 && header.toInc !== this.incarnation) return this.refuse('staleIncarnation');
      if (!this.fresh(channel, header)) return this.refuse('replayed');
    } else {
      this.fresh(channel, header); // unchecked, but senders' incarnations are still learnt
    }
    const decoded = unpackBody(body);
    if (!decoded) return 'malformed';
    return { from: header.from, inc: header.inc, body: decoded.value };
  }

  /**
   * Per sender: its newest incarnation, and one window per channel — frames of one sender travel
   * on several paths (its direct frames, topics, the control plane's own connection) that may
   * overtake each other; the MAC binds the channel, so a frame cannot be moved to a fresh window.
   */
  private fresh(channel: string, h: FrameHeader): boolean {
    // Replicas are few and fixed: never evicted. Client endpoints are bounded, oldest forgotten
    // first, so a keyholder inventing sender names cannot push a replica's state out.
    const table = this.replicas.has(h.from) ? this.replicaSenders : this.clientSenders;
    let s = table.get(h.from);
    if (s && h.inc < s.inc) return false;
    if (!s || h.inc > s.inc) {
      table.delete(h.from);
      if (table === this.clientSenders && table.size >= MAX_CLIENT_SENDERS) table.delete(table.keys().next().value!);
      s = { inc: h.inc, windows: new Map() };
      table.set(h.from, s);
    }
    let window = s.windows.get(channel);
    if (!window) s.windows.set(channel, (window = new ReplayWindow(h.seq)));
    return window.accept(h.seq);
  }

  private refuse(reason: RejectReason): RejectReason {
    this.rejected[reason]++;
    return reason;
  }
}

/** HMAC-SHA256 over the frame's fields and the SHA-256 of its body (hashed once for all receivers), cut to 128 bits. */
function mac(key: Buffer, channel: string, h: FrameHeader, bodyHash: Buffer): Buffer {
  return createHmac('sha256', key).update(`${channel}\n${h.from}\n${h.inc}\n${h.seq}\n${h.toInc}\n`).update(bodyHash).digest().subarray(0, MAC_BYTES);
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
