import { Packr } from 'msgpackr';

/**
 * Wire format of one frame:
 *
 *   [version byte = 2][u32 BE header length][header: msgpack][body: msgpack]
 *
 * The header says who sent it and carries the authenticators (see auth.ts); the body is what the
 * sender meant. They are packed apart so a receiver checks the MAC over the body's raw bytes before
 * it spends anything on decoding them. The version byte lets a later format be told apart (and an
 * old one dropped) without guessing.
 */
export const FRAME_VERSION = 2;

export interface FrameHeader {
  /** The sending endpoint ("n1", "gw-<uuid>"). */
  from: string;
  /** The sender's incarnation: a new, larger number each time its process starts. */
  inc: number;
  /** Per sender and incarnation: 1, 2, 3, ... one per frame it seals. */
  seq: number;
  /** The receiver's incarnation as the sender knows it, or 0 (unknown, or a topic with many receivers). */
  toInc: number;
  /** principal -> MAC: one per principal the frame is meant for. */
  macs: Record<string, Uint8Array>;
}

/**
 * Plain MessagePack, no msgpackr extensions, because:
 * - useRecords: false — record structures are shared state between one packer and one unpacker;
 *   pub/sub is lossy and many-to-many, so every frame must stand alone.
 * - mapsAsObjects: true — maps decode to plain objects (a JS Map arrives as an object with string
 *   keys); bodies are meant to be plain objects, arrays, numbers, strings and bytes.
 * - no moreTypes: a Uint8Array/Buffer goes as MessagePack bin and comes back as a Buffer
 *   (a Uint8Array), which is what Raft entries carry.
 * - int64AsType: 'number' — a 64-bit integer from another encoder decodes as a number, never a
 *   bigint that would surprise the code above (JSON.stringify throws on a bigint).
 * - copyBuffers: true — decoded bytes get their own memory instead of a view of the socket chunk,
 *   so a log entry kept for long does not pin the whole read buffer it arrived in.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: true });

const PREFIX = 5; // version byte + u32 header length

export function packBody(body: unknown): Buffer {
  return packr.pack(body);
}

export function encodeFrame(header: FrameHeader, body: Uint8Array): Buffer {
  const head = packr.pack([header.from, header.inc, header.seq, header.toInc, header.macs]);
  const out = Buffer.allocUnsafe(PREFIX + head.length + body.length);
  out[0] = FRAME_VERSION;
  out.writeUInt32BE(head.length, 1);
  out.set(head, PREFIX);
  out.set(body, PREFIX + head.length);
  return out;
}

/** The header and the body's raw bytes (a view of `buf`), or null for anything else. Never throws. */
export function splitFrame(buf: Buffer): { header: FrameHeader; body: Buffer } | null {
  if (!(buf instanceof Uint8Array) || buf.length < PREFIX + 1 || buf[0] !== FRAME_VERSION) return null;
  const headLength = buf.readUInt32BE(1);
  if (headLength === 0 || PREFIX + headLength >= buf.length) return null;
  let value: unknown;
  try {
    value = packr.unpack(buf.subarray(PREFIX, PREFIX + headLength));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 5) return null;
  const [from, inc, seq, toInc, macs] = value as unknown[];
  if (typeof from !== 'string' || from.length === 0 || !isCount(inc) || !isCount(seq) || !isCount(toInc)) return null;
  if (typeof macs !== 'object' || macs === null || Array.isArray(macs)) return null;
  return { header: { from, inc, seq, toInc, macs: macs as Record<string, Uint8Array> }, body: buf.subarray(PREFIX + headLength) };
}

/** The decoded body, or undefined when the bytes are not MessagePack. Never throws. */
export function unpackBody(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: packr.unpack(bytes) };
  } catch {
    return undefined;
  }
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
