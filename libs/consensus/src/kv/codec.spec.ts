import { decodeRequest, encodeRequest, KvValidationError, validateRequest, type KvRequest } from './index';
import { packr } from './msgpack';

const samples: KvRequest[] = [
  { id: 'r1', ts: 1_723_456_789_012, cmd: { op: 'put', key: 'a/b', value: 'héllo 🌍' } },
  { id: 'r2', ts: 0, cmd: { op: 'put', key: 'k', value: '' } },
  { id: 'r3', ts: 5, cmd: { op: 'delete', key: 'k' } },
  { id: 'r4', ts: 6, cmd: { op: 'cas', key: 'k', expected: null, value: 'v' } },
  { id: 'r5', ts: 7.5, cmd: { op: 'cas', key: 'k', expected: 'old', value: 'new' } },
  { id: 'rest:r6', ts: 8, cmd: { op: 'put', key: 'k', value: 'v' }, fingerprint: 'Zm9v-fp' },
  { id: 'rest:r7', ts: 9, cmd: { op: 'delete', key: 'k' }, fingerprint: 'fp' },
  { id: 'rest:r8', ts: 10, cmd: { op: 'cas', key: 'k', expected: null, value: 'v' }, fingerprint: 'x'.repeat(128) },
];

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KvValidationError);
    return (e as KvValidationError).field;
  }
  throw new Error('expected a KvValidationError');
}

describe('encodeRequest / decodeRequest', () => {
  it.each(samples)('round-trips %j', (req) => {
    expect(decodeRequest(encodeRequest(req))).toEqual(req);
  });

  it('is compact: a small put is well under its JSON size', () => {
    const req = samples[0];
    expect(encodeRequest(req).length).toBeLessThan(Buffer.byteLength(JSON.stringify(req)) * 0.7);
  });

  it('decodes from a plain Uint8Array copy (not only a Buffer)', () => {
    const bytes = Uint8Array.from(encodeRequest(samples[3]));
    expect(decodeRequest(bytes)).toEqual(samples[3]);
  });

  it('drops unknown properties instead of carrying them into the log', () => {
    const req = { ...samples[0], extra: 1, cmd: { ...samples[0].cmd, junk: true } };
    expect(decodeRequest(encodeRequest(req as KvRequest))).toEqual(samples[0]);
  });

  it('refuses to encode an invalid request', () => {
    expect(() => encodeRequest({ id: '', ts: 1, cmd: { op: 'delete', key: 'k' } })).toThrow(/id/);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['text', Buffer.from('hello world garbage')],
    ['reserved byte', Uint8Array.of(0xc1)],
    ['truncated', encodeRequest(samples[0]).subarray(0, 6)],
    ['trailing bytes', Buffer.concat([encodeRequest(samples[0]), Uint8Array.of(1)])],
    ['a number', packr.pack(42)],
    ['a map', packr.pack({ id: 'x', ts: 1, cmd: { op: 'delete', key: 'k' } })],
    ['too short', packr.pack(['id', 1, 1])],
    ['unknown op', packr.pack(['id', 1, 9, 'k'])],
    ['put without value', packr.pack(['id', 1, 0, 'k'])],
    ['ts as string', packr.pack(['id', '1', 1, 'k'])],
    ['value as number', packr.pack(['id', 1, 0, 'k', 3])],
    ['unknown extension', Uint8Array.of(0xd4, 0x01, 0x00)],
  ])('throws a clear Error on garbage: %s', (_name, bytes) => {
    expect(() => decodeRequest(bytes)).toThrow(/KvRequest/);
  });

  it('the fingerprint is one trailing element, present only when the request has one', () => {
    expect(packr.unpack(encodeRequest(samples[0]))).toHaveLength(5);
    expect(packr.unpack(encodeRequest(samples[5]))).toEqual(['rest:r6', 8, 0, 'k', 'v', 'Zm9v-fp']);
    expect(packr.unpack(encodeRequest(samples[6]))).toEqual(['rest:r7', 9, 1, 'k', 'fp']);
    // entries written before fingerprints existed decode as requests without one
    expect(decodeRequest(packr.pack(['old', 1, 2, 'k', null, 'v']))).toEqual({ id: 'old', ts: 1, cmd: { op: 'cas', key: 'k', expected: null, value: 'v' } });
  });

  it.each([
    ['a nil fingerprint', packr.pack(['id', 1, 1, 'k', null])],
    ['a numeric fingerprint', packr.pack(['id', 1, 0, 'k', 'v', 5])],
    ['an empty fingerprint', packr.pack(['id', 1, 1, 'k', ''])],
    ['a fingerprint over 128 characters', packr.pack(['id', 1, 1, 'k', 'x'.repeat(129)])],
    ['two elements too many', packr.pack(['id', 1, 1, 'k', 'fp', 'more'])],
  ])('refuses %s', (_name, bytes) => {
    expect(() => decodeRequest(bytes)).toThrow(/KvRequest/);
  });

  it('throws on a non-Uint8Array argument', () => {
    expect(() => decodeRequest('abc' as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
});

describe('validateRequest', () => {
  const ok = { id: 'r', ts: 10, cmd: { op: 'put', key: 'k', value: 'v' } };

  it('accepts a well-formed request and returns only the known fields', () => {
    expect(validateRequest({ ...ok, more: 1 })).toEqual(ok);
    expect(validateRequest({ id: 'r', ts: 0, cmd: { op: 'cas', key: 'k', expected: null, value: 'v' } })).toEqual({
      id: 'r',
      ts: 0,
      cmd: { op: 'cas', key: 'k', expected: null, value: 'v' },
    });
  });

  it.each<[string, unknown]>([
    ['request', null],
    ['request', 'str'],
    ['request', [ok]],
    ['id', { ...ok, id: undefined }],
    ['id', { ...ok, id: '' }],
    ['id', { ...ok, id: 7 }],
    ['ts', { ...ok, ts: undefined }],
    ['ts', { ...ok, ts: '10' }],
    ['ts', { ...ok, ts: -1 }],
    ['ts', { ...ok, ts: NaN }],
    ['ts', { ...ok, ts: Infinity }],
    ['ts', { ...ok, ts: 10n }],
    ['cmd', { ...ok, cmd: undefined }],
    ['cmd', { ...ok, cmd: [] }],
    ['cmd.op', { ...ok, cmd: { key: 'k', value: 'v' } }],
    ['cmd.op', { ...ok, cmd: { op: 'get', key: 'k' } }],
    ['cmd.key', { ...ok, cmd: { op: 'put', value: 'v' } }],
    ['cmd.key', { ...ok, cmd: { op: 'delete', key: '' } }],
    ['cmd.key', { ...ok, cmd: { op: 'put', key: 'a\uD800', value: 'v' } }],
    ['cmd.value', { ...ok, cmd: { op: 'put', key: 'k' } }],
    ['cmd.value', { ...ok, cmd: { op: 'put', key: 'k', value: null } }],
    ['cmd.value', { ...ok, cmd: { op: 'put', key: 'k', value: 'x\uDC00y' } }],
    ['cmd.value', { ...ok, cmd: { op: 'cas', key: 'k', expected: 'a', value: 1 } }],
    ['cmd.expected', { ...ok, cmd: { op: 'cas', key: 'k', value: 'v' } }],
    ['cmd.expected', { ...ok, cmd: { op: 'cas', key: 'k', expected: 5, value: 'v' } }],
  ])('names the bad field %s', (field, input) => {
    expect(fieldOf(() => validateRequest(input))).toBe(field);
  });

  it('puts the field in the message too', () => {
    expect(() => validateRequest({ ...ok, cmd: { op: 'put', key: 'k', value: 3 } })).toThrow('invalid KvRequest: cmd.value must be a string, got number');
  });

  it('accepts paired surrogates (emoji) in keys and values', () => {
    expect(validateRequest({ ...ok, cmd: { op: 'put', key: '🔑', value: '😀' } }).cmd).toEqual({
      op: 'put',
      key: '🔑',
      value: '😀',
    });
  });
});
