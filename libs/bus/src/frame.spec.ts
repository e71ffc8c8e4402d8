import { Packr } from 'msgpackr';
import { channelFor, topicChannel } from './channels';
import { decodeFrame, encodeFrame, FRAME_VERSION } from './frame';

describe('channel names', () => {
  it('puts endpoints and topics under the cluster prefix, apart from each other', () => {
    expect(channelFor('c1', 'n2')).toBe('synod:c1:n:n2');
    expect(channelFor('c1', 'gw-42')).toBe('synod:c1:n:gw-42');
    expect(topicChannel('c1', 'broadcast')).toBe('synod:c1:t:broadcast');
    expect(channelFor('c1', 'x')).not.toBe(topicChannel('c1', 'x'));
  });
});

describe('encodeFrame / decodeFrame', () => {
  it('round-trips sender and body, with a version byte first', () => {
    const body = { type: 'RequestVote', term: 3, candidateId: 'n1', lastLogIndex: 10, lastLogTerm: 2, granted: false, note: null, list: [1, 'a', [2]] };
    const buf = encodeFrame('n1', body);
    expect(buf[0]).toBe(FRAME_VERSION);
    expect(decodeFrame(buf)).toEqual({ from: 'n1', body });
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
    const out = decodeFrame(encodeFrame('n1', body)) as { body: typeof body };
    const [e1, e2] = out.body.entries;
    expect(e1.command).toBeInstanceOf(Uint8Array);
    expect(Array.from(e1.command)).toEqual(Array.from(all));
    expect(e2.command).toBeInstanceOf(Uint8Array);
    expect(e2.command.length).toBe(0);
    expect(Buffer.from(out.body.digest).toString()).toBe('abc');
  });

  it('decoded bytes do not alias the received buffer', () => {
    const buf = encodeFrame('n1', { data: new Uint8Array([7, 7, 7]) });
    const out = decodeFrame(buf) as { body: { data: Uint8Array } };
    buf.fill(0);
    expect(Array.from(out.body.data)).toEqual([7, 7, 7]);
  });

  it('decodes a Map as a plain object and keeps numbers, strings and nesting', () => {
    const out = decodeFrame(
      encodeFrame('n1', {
        m: new Map<string, unknown>([
          ['a', 1],
          ['b', { c: 'd' }],
        ]),
      }),
    );
    expect(out?.body).toEqual({ m: { a: 1, b: { c: 'd' } } });
  });

  it('decodes integers as numbers, also 64-bit ones from other encoders', () => {
    for (const n of [0, -1, 2 ** 32, 2 ** 53 - 1, -(2 ** 40)]) expect(decodeFrame(encodeFrame('n1', n))?.body).toBe(n);
    // [ "n1", uint64 2^40 ] as another encoder would write it
    const uint64 = Buffer.from([FRAME_VERSION, 0x92, 0xa2, 0x6e, 0x31, 0xcf, 0, 0, 0x01, 0, 0, 0, 0, 0]);
    expect(decodeFrame(uint64)?.body).toBe(2 ** 40);
  });

  it.each<[string, Buffer]>([
    ['empty', Buffer.alloc(0)],
    ['only a version byte', Buffer.from([FRAME_VERSION])],
    ['wrong version', Buffer.concat([Buffer.from([FRAME_VERSION + 1]), encodeFrame('n1', 1).subarray(1)])],
    ['text', Buffer.from('hello world')],
    ['truncated', encodeFrame('n1', { a: 'long enough string' }).subarray(0, 10)],
    ['trailing bytes', Buffer.concat([encodeFrame('n1', 1), Buffer.from([0x01])])],
    ['not an array', Buffer.concat([Buffer.from([FRAME_VERSION]), new Packr({ useRecords: false }).pack({ from: 'n1', body: 1 })])],
    ['array of 3', Buffer.concat([Buffer.from([FRAME_VERSION]), new Packr({ useRecords: false }).pack(['n1', 1, 2])])],
    ['sender not a string', Buffer.concat([Buffer.from([FRAME_VERSION]), new Packr({ useRecords: false }).pack([1, 1])])],
    ['empty sender', Buffer.concat([Buffer.from([FRAME_VERSION]), new Packr({ useRecords: false }).pack(['', 1])])],
    ['huge declared array', Buffer.from([FRAME_VERSION, 0xdd, 0xff, 0xff, 0xff, 0xff])],
    ['huge declared bin', Buffer.from([FRAME_VERSION, 0x92, 0xa1, 0x61, 0xc6, 0xff, 0xff, 0xff, 0xff])],
  ])('returns null for %s', (_name, buf) => {
    expect(decodeFrame(buf)).toBeNull();
  });

  it('returns null rather than throwing for a non-buffer', () => {
    expect(decodeFrame('x' as unknown as Buffer)).toBeNull();
    expect(decodeFrame(undefined as unknown as Buffer)).toBeNull();
  });

  it('never throws on random bytes or on a mutated frame', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const good = encodeFrame('n1', { term: 5, entries: [{ index: 1, command: new Uint8Array([1, 2, 3]) }], s: 'text' });
    for (let i = 0; i < 3000; i++) {
      const random = Buffer.from(Array.from({ length: 1 + rand(64) }, () => rand(256)));
      if (i % 2 === 0) random[0] = FRAME_VERSION; // get past the version check
      expect(() => decodeFrame(random)).not.toThrow();
      const mutated = Buffer.from(good);
      for (let k = 0; k < 1 + rand(3); k++) mutated[1 + rand(mutated.length - 1)] = rand(256);
      expect(() => decodeFrame(mutated)).not.toThrow();
    }
    expect(decodeFrame(good)).not.toBeNull(); // the shared decoder state survived the garbage
  });

  it('a frame using msgpackr record definitions cannot change how later frames decode', () => {
    // Records reuse bytes 0x40-0x7f (plain integers 64..127) as structure references; a definition
    // leaking from one frame into the next would turn the numbers of an honest frame into objects.
    const recordPackr = new Packr({ useRecords: true });
    const hostile = Buffer.concat([Buffer.from([FRAME_VERSION]), recordPackr.pack(['n9', { a: 1 }, { a: 2 }])]);
    decodeFrame(hostile);
    const hostile2 = Buffer.concat([Buffer.from([FRAME_VERSION]), recordPackr.pack(['n9', { z: 1 }])]);
    decodeFrame(hostile2);
    expect(decodeFrame(encodeFrame('n1', [64, 65, 100, 127]))?.body).toEqual([64, 65, 100, 127]);
  });
});
