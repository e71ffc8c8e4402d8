import { Packr } from 'msgpackr';

/**
 * Wire format of one frame: a version byte, then msgpack of the array `[from, body]`.
 * The version byte lets a later format be told apart (and an old one dropped) without guessing.
 */
export const FRAME_VERSION = 1;

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

export function encodeFrame(from: string, body: unknown): Buffer {
  const packed = packr.pack([from, body]);
  const out = Buffer.allocUnsafe(packed.length + 1);
  out[0] = FRAME_VERSION;
  out.set(packed, 1);
  return out;
}

/** The frame in `buf`, or null for anything else (wrong version, bad msgpack, wrong shape). Never throws. */
export function decodeFrame(buf: Buffer): { from: string; body: unknown } | null {
  if (!(buf instanceof Uint8Array) || buf.length < 2 || buf[0] !== FRAME_VERSION) return null;
  let value: unknown;
  try {
    value = packr.unpack(buf, { start: 1 });
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [from, body] = value as [unknown, unknown];
  if (typeof from !== 'string' || from.length === 0) return null;
  return { from, body };
}
