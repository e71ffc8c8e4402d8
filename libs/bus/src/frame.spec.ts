import { Packr } from 'msgpackr';
import { channelFor, topicChannel } from './channels';
import { encodeFrame, FRAME_VERSION, type FrameHeader, packBody, splitFrame, unpackBody } from './frame';

describe('channel names', () => {
  it('puts endpoints and topics under the cluster prefix, apart from each other', () => {
    expect(channelFor('c1', 'n2')).toBe('synod:c1:n:n2');
    expect(channelFor('c1', 'gw-42')).toBe('synod:c1:n:gw-42');
    expect(topicChannel('c1', 'broadcast')).toBe('synod:c1:t:broadcast');
    expect(channelFor('c1', 'x')).not.toBe(topicChannel('c1', 'x'));
  });
});

/** A plain msgpack packer, as another implementation (or an attacker) would write headers and bodies. */
const plain = new Packr({ useRecords: false });
const mac = (fill: number): Uint8Array => new Uint8Array(16).fill(fill);
const header = (h: Partial<FrameHeader> = {}): FrameHeader => ({ from: 'n1', inc: 1_700_000_000_000, seq: 1, toInc: 0, macs: { n2: mac(7) }, ...h });

/** A frame from raw parts: [version][u32 header length][head][body], lengths as given unless overridden. */
function rawFrame(head: Uint8Array, body: Uint8Array, opts: { version?: number; headLength?: number } = {}): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = opts.version ?? FRAME_VERSION;
  prefix.writeUInt32BE(opts.headLength ?? head.length, 1);
  return Buffer.concat([prefix, head, body]);
}

/** Encode, split, unpack: what a receiver gets of `body`. */
function roundTrip(body: unknown): unknown {
  const split = splitFrame(encodeFrame(header(), packBody(body)));
  expect(split).not.toBeNull();
  const decoded = unpackBody(split!.body);
  expect(decoded).toBeDefined();
  return decoded!.value;
}

describe('encodeFrame / splitFrame', () => {
  it('lays out version byte, u32 BE header length, msgpack header [from, inc, seq, toInc, macs], then the body bytes', () => {
    const h = header({ macs: { n2: mac(1), n3: mac(2) }, toInc: 42, seq: 9 });
    const bodyBytes = packBody({ type: 'Prepare', n: 7 });
    const buf = encodeFrame(h, bodyBytes);
    expect(buf[0]).toBe(FRAME_VERSION);
    expect(FRAME_VERSION).toBe(2);
    const headLength = buf.readUInt32BE(1);
    expect(buf.length).toBe(5 + headLength + bodyBytes.length);
    const head = plain.unpack(buf.subarray(5, 5 + headLength)) as unknown[];
    expect(head.slice(0, 4)).toEqual(['n1', h.inc, 9, 42]);
    expect(Object.keys(head[4] as object).sort()).toEqual(['n2', 'n3']);
    expect(Buffer.compare(buf.subarray(5 + headLength), bodyBytes)).toBe(0);
  });

  it('round-trips the header exactly and hands back the raw body bytes', () => {
    const h = header({ from: 'gw-1234abcd', inc: 2 ** 53 - 1, seq: 123456, toInc: 1_700_000_000_001, macs: { n1: mac(1), gateway: mac(2) } });
    const bodyBytes = packBody(['anything', 1, null]);
    const split = splitFrame(encodeFrame(h, bodyBytes));
    expect(split).not.toBeNull();
    expect(split!.header.from).toBe('gw-1234abcd');
    expect(split!.header.inc).toBe(2 ** 53 - 1);
    expect(split!.header.seq).toBe(123456);
    expect(split!.header.toInc).toBe(1_700_000_000_001);
    expect(Object.keys(split!.header.macs).sort()).toEqual(['gateway', 'n1']);
    for (const [p, m] of Object.entries(h.macs)) {
      expect(split!.header.macs[p]).toBeInstanceOf(Uint8Array);
      expect(Array.from(split!.header.macs[p])).toEqual(Array.from(m));
    }
    expect(Buffer.compare(split!.body, bodyBytes)).toBe(0);
  });

  it('the body it hands back is a view of the frame (nothing is copied before the MAC check)', () => {
    const buf = encodeFrame(header(), packBody('x'.repeat(100)));
    const { body } = splitFrame(buf)!;
    expect(body.buffer).toBe(buf.buffer);
    buf[buf.length - 1] = 'y'.charCodeAt(0);
    expect(body[body.length - 1]).toBe('y'.charCodeAt(0));
  });

  it('takes a header with no MACs, and header numbers written as 64-bit integers by another encoder', () => {
    expect(splitFrame(encodeFrame(header({ macs: {} }), packBody(1)))?.header.macs).toEqual({});
    // [ "n1", uint64 2^40, uint64 3, int64 0, {} ]
    const head = Buffer.from([0x95, 0xa2, 0x6e, 0x31, 0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0, 0xcf, 0, 0, 0, 0, 0, 0, 0, 3, 0xd3, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    const split = splitFrame(rawFrame(head, packBody('b')));
    expect(split?.header).toEqual({ from: 'n1', inc: 2 ** 40, seq: 3, toInc: 0, macs: {} });
    expect(typeof split?.header.inc).toBe('number');
  });

  const good = { head: plain.pack(['n1', 5, 1, 0, { n2: mac(1) }]), body: packBody({ a: 'long enough string' }) };
  const withHead = (h: unknown): Buffer => rawFrame(plain.pack(h), good.body);
  it.each<[string, Buffer]>([
    ['empty', Buffer.alloc(0)],
    ['only a version byte', Buffer.from([FRAME_VERSION])],
    ['a version byte and part of the length', Buffer.from([FRAME_VERSION, 0, 0])],
    ['a prefix and nothing else', Buffer.from([FRAME_VERSION, 0, 0, 0, 1])],
    ['version 1 (the unauthenticated format)', Buffer.concat([Buffer.from([1]), plain.pack(['n1', { a: 1 }])])],
    ['wrong version', rawFrame(good.head, good.body, { version: FRAME_VERSION + 1 })],
    ['text', Buffer.from('hello world, this is no frame')],
    ['header length 0', rawFrame(good.head, good.body, { headLength: 0 })],
    ['header length past the end', rawFrame(good.head, good.body, { headLength: good.head.length + good.body.length + 1 })],
    ['header length up to the end: no body', rawFrame(good.head, good.body, { headLength: good.head.length + good.body.length })],
    ['header without a body', rawFrame(good.head, new Uint8Array(0))],
    ['header length 2^32-1', rawFrame(good.head, good.body, { headLength: 0xffffffff })],
    ['header length one short (truncated header)', rawFrame(good.head, good.body, { headLength: good.head.length - 1 })],
    ['header length one long (trailing byte in the header)', rawFrame(good.head, good.body, { headLength: good.head.length + 1 })],
    ['header not msgpack', rawFrame(Buffer.from([0x95, 0xa2, 0x6e]), good.body)],
    ['header not an array', withHead({ from: 'n1', inc: 5, seq: 1, toInc: 0, macs: {} })],
    ['header of 4', withHead(['n1', 5, 1, 0])],
    ['header of 6', withHead(['n1', 5, 1, 0, {}, 'extra'])],
    ['sender not a string', withHead([1, 5, 1, 0, {}])],
    ['empty sender', withHead(['', 5, 1, 0, {}])],
    ['negative incarnation', withHead(['n1', -5, 1, 0, {}])],
    ['fractional incarnation', withHead(['n1', 5.5, 1, 0, {}])],
    ['incarnation beyond 2^53', withHead(['n1', 2 ** 60, 1, 0, {}])],
    ['sequence number a string', withHead(['n1', 5, '1', 0, {}])],
    ['sequence number NaN', withHead(['n1', 5, NaN, 0, {}])],
    ['toInc null', withHead(['n1', 5, 1, null, {}])],
    ['toInc infinite', withHead(['n1', 5, 1, Infinity, {}])],
    ['MACs an array', withHead(['n1', 5, 1, 0, [mac(1)]])],
    ['MACs null', withHead(['n1', 5, 1, 0, null])],
    ['MACs a string', withHead(['n1', 5, 1, 0, 'mac'])],
    ['huge declared array as header', rawFrame(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), good.body)],
    ['huge declared bin in the header', rawFrame(Buffer.from([0x95, 0xa2, 0x6e, 0x31, 0xc6, 0xff, 0xff, 0xff, 0xff]), good.body)],
    ['huge declared map as MACs', rawFrame(Buffer.from([0x95, 0xa2, 0x6e, 0x31, 0x05, 0x01, 0x00, 0xdf, 0xff, 0xff, 0xff, 0xff]), good.body)],
  ])('splitFrame returns null for %s', (_name, buf) => {
    expect(splitFrame(buf)).toBeNull();
  });

  it('splitFrame returns null rather than throwing for a non-buffer', () => {
    for (const x of ['x', undefined, null, 42, { length: 10 }, [2, 0, 0, 0, 1, 0x90, 0]]) expect(splitFrame(x as unknown as Buffer)).toBeNull();
  });
});

describe('packBody / unpackBody', () => {
  it('round-trips plain bodies: objects, arrays, numbers, strings, booleans, null', () => {
    const body = { type: 'RequestVote', term: 3, candidateId: 'n1', lastLogIndex: 10, lastLogTerm: 2, granted: false, note: null, list: [1, 'a', [2]], f: 1.5 };
    expect(roundTrip(body)).toEqual(body);
    for (const v of ['fence', '', 0, -1, 3.25, true, null, [], {}, 'ü€😀']) expect(roundTrip(v)).toEqual(v);
  });

  it('keeps binary fields as bytes', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const body = {
      entries: [
        { index: 1, term: 1, command: all },
        { index: 2, term: 1, command: new Uint8Array(0) },
      ],
      digest: Buffer.from('abc'),
    };
    const out = roundTrip(body) as typeof body;
    const [e1, e2] = out.entries;
    expect(e1.command).toBeInstanceOf(Uint8Array);
    expect(Array.from(e1.command)).toEqual(Array.from(all));
    expect(e2.command).toBeInstanceOf(Uint8Array);
    expect(e2.command.length).toBe(0);
    expect(Buffer.from(out.digest).toString()).toBe('abc');
  });

  it('decoded bytes do not alias the received frame', () => {
    const buf = encodeFrame(header(), packBody({ data: new Uint8Array([7, 7, 7]) }));
    const split = splitFrame(buf)!;
    const out = unpackBody(split.body)!.value as { data: Uint8Array };
    const macs = split.header.macs.n2;
    buf.fill(0);
    expect(Array.from(out.data)).toEqual([7, 7, 7]);
    expect(Array.from(macs)).toEqual(Array.from(mac(7)));
  });

  it('decodes a Map as a plain object and keeps numbers, strings and nesting', () => {
    const out = roundTrip({
      m: new Map<string, unknown>([
        ['a', 1],
        ['b', { c: 'd' }],
      ]),
    });
    expect(out).toEqual({ m: { a: 1, b: { c: 'd' } } });
    expect((out as { m: unknown }).m).not.toBeInstanceOf(Map);
  });

  it('decodes integers as numbers, also 64-bit ones from other encoders', () => {
    for (const n of [0, -1, 2 ** 32, 2 ** 53 - 1, -(2 ** 40)]) expect(roundTrip(n)).toBe(n);
    // uint64 2^40 and int64 -2^40 as another encoder would write them
    expect(unpackBody(Buffer.from([0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0]))).toEqual({ value: 2 ** 40 });
    expect(unpackBody(Buffer.from([0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]))).toEqual({ value: -(2 ** 40) });
    expect(typeof unpackBody(Buffer.from([0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0]))!.value).toBe('number');
  });

  it('tells a body that decodes to undefined, null or false from one that does not decode', () => {
    expect(unpackBody(packBody(null))).toEqual({ value: null });
    expect(unpackBody(packBody(false))).toEqual({ value: false });
    expect(unpackBody(packBody(undefined))).toHaveProperty('value');
  });

  it.each<[string, Uint8Array]>([
    ['empty', new Uint8Array(0)],
    ['truncated array', Uint8Array.from([0x92, 0x01])],
    ['truncated string', packBody('a long enough string').subarray(0, 5)],
    ['trailing bytes', Buffer.concat([packBody(1), Buffer.from([0x01])])],
    ['two values', Uint8Array.from([0x01, 0x02])],
    ['huge declared array', Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
    ['huge declared bin', Uint8Array.from([0xc6, 0xff, 0xff, 0xff, 0xff])],
  ])('unpackBody returns undefined for %s', (_name, bytes) => {
    expect(unpackBody(bytes)).toBeUndefined();
  });

  it('a body using msgpackr record definitions cannot change how later bodies decode', () => {
    // Records reuse bytes 0x40-0x7f (plain integers 64..127) as structure references; a definition
    // leaking from one frame into the next would turn the numbers of an honest frame into objects.
    const recordPackr = new Packr({ useRecords: true });
    unpackBody(recordPackr.pack([{ a: 1 }, { a: 2 }]));
    unpackBody(recordPackr.pack({ z: 1 }));
    splitFrame(rawFrame(recordPackr.pack(['n9', 1, 1, 0, { a: 1 }]), packBody(1)));
    expect(roundTrip([64, 65, 100, 127])).toEqual([64, 65, 100, 127]);
    expect(splitFrame(encodeFrame(header({ seq: 64, toInc: 100 }), packBody(1)))?.header).toMatchObject({ seq: 64, toInc: 100 });
  });
});

describe('the decoder under garbage', () => {
  it('never throws on random bytes or on a mutated frame', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const good = encodeFrame(
      header({ macs: { n2: mac(1), n3: mac(2) } }),
      packBody({ term: 5, entries: [{ index: 1, command: new Uint8Array([1, 2, 3]) }], s: 'text' }),
    );
    const decodeAll = (buf: Buffer): void => {
      const split = splitFrame(buf);
      if (split) unpackBody(split.body);
    };
    for (let i = 0; i < 3000; i++) {
      const random = Buffer.from(Array.from({ length: 1 + rand(64) }, () => rand(256)));
      if (i % 2 === 0) random[0] = FRAME_VERSION; // get past the version check
      if (i % 4 === 0 && random.length > 5) random.writeUInt32BE(rand(random.length), 1); // and the length check
      expect(() => decodeAll(random)).not.toThrow();
      expect(() => unpackBody(random)).not.toThrow();
      const mutated = Buffer.from(good);
      for (let k = 0; k < 1 + rand(3); k++) mutated[1 + rand(mutated.length - 1)] = rand(256);
      expect(() => decodeAll(mutated)).not.toThrow();
      expect(() => decodeAll(mutated.subarray(0, rand(mutated.length)))).not.toThrow();
    }
    // the shared decoder state survived the garbage
    expect(unpackBody(splitFrame(good)!.body)?.value).toEqual({ term: 5, entries: [{ index: 1, command: Uint8Array.from([1, 2, 3]) }], s: 'text' });
  });
});
