import type { KvEvent } from '@app/consensus/kv';
import { changeData, changeFrames, compactedFrame, progressFrame } from './sse';

/**
 * The watch stream's frames (text/event-stream). Each frame is checked byte for byte, and also
 * read back with a parser that follows the SSE spec (WHATWG HTML §9.2.6), so that a frame a
 * browser's EventSource would read differently fails here.
 */

interface ParsedEvent {
  /** The last-event-ID buffer after this event (undefined: no id line seen yet). */
  id: string | undefined;
  event: string;
  data: string;
}

/** An EventSource's reading of a stream: dispatched events only (a frame with no data line is none). */
function parseStream(text: string): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  let lastId: string | undefined;
  let event = '';
  let data: string[] = [];
  let sawData = false;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (sawData) out.push({ id: lastId, event: event === '' ? 'message' : event, data: data.join('\n') });
      event = '';
      data = [];
      sawData = false;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id' && !value.includes('\0')) lastId = value;
    else if (field === 'event') event = value;
    else if (field === 'data') {
      data.push(value);
      sawData = true;
    }
  }
  return out;
}

const put = (key: string, value: string, revision: number, prev: KvEvent['prev'] = null): KvEvent => ({
  key,
  value,
  revision,
  createRevision: prev === null ? revision : prev.createRevision,
  version: prev === null ? 1 : prev.version + 1,
  prev,
});
const del = (key: string, revision: number, prev: NonNullable<KvEvent['prev']>): KvEvent => ({
  key,
  value: null,
  revision,
  createRevision: 0,
  version: 0,
  prev,
});
const prevOf = (value: string, modRevision: number, createRevision = modRevision, version = 1) => ({ value, modRevision, createRevision, version });

describe('changeData', () => {
  it('a put of a new key: key, value, revision and no prevValue member at all', () => {
    const d = changeData(put('a', 'x', 3));
    expect(d).toEqual({ key: 'a', value: 'x', revision: 3 });
    expect(Object.keys(d)).toEqual(['key', 'value', 'revision']);
  });

  it('a put over a value: prevValue is the value it replaced', () => {
    expect(changeData(put('a', 'y', 9, prevOf('x', 3)))).toEqual({ key: 'a', value: 'y', revision: 9, prevValue: 'x' });
  });

  it('an empty previous value is still a prevValue ("" is not absent)', () => {
    expect(changeData(put('a', 'y', 9, prevOf('', 3)))).toEqual({ key: 'a', value: 'y', revision: 9, prevValue: '' });
  });

  it('a delete: value null, prevValue the deleted value', () => {
    expect(changeData(del('a', 12, prevOf('y', 9, 3, 2)))).toEqual({ key: 'a', value: null, revision: 12, prevValue: 'y' });
  });

  it('carries none of the history internals (createRevision, version, prev)', () => {
    const d = changeData(put('a', 'y', 9, prevOf('x', 3))) as Record<string, unknown>;
    expect(d).not.toHaveProperty('createRevision');
    expect(d).not.toHaveProperty('version');
    expect(d).not.toHaveProperty('prev');
  });
});

describe('changeFrames', () => {
  it('nothing for no events', () => {
    expect(changeFrames([])).toBe('');
  });

  it('one frame per change: id, event put|delete, one data line of JSON, a blank line', () => {
    expect(changeFrames([put('a', 'x', 3)])).toBe('id: 3\nevent: put\ndata: {"key":"a","value":"x","revision":3}\n\n');
    expect(changeFrames([del('a', 4, prevOf('x', 3))])).toBe('id: 4\nevent: delete\ndata: {"key":"a","value":null,"revision":4,"prevValue":"x"}\n\n');
  });

  it('the changes of one revision are consecutive frames with the same id, in the order given', () => {
    const events = [put('t/1', 'a', 7), del('t/0', 7, prevOf('old', 2)), put('t/2', 'b', 7, prevOf('was', 5))];
    expect(changeFrames(events)).toBe(
      'id: 7\nevent: put\ndata: {"key":"t/1","value":"a","revision":7}\n\n' +
        'id: 7\nevent: delete\ndata: {"key":"t/0","value":null,"revision":7,"prevValue":"old"}\n\n' +
        'id: 7\nevent: put\ndata: {"key":"t/2","value":"b","revision":7,"prevValue":"was"}\n\n',
    );
    expect(parseStream(changeFrames(events)).map((e) => [e.id, e.event, JSON.parse(e.data).key])).toEqual([
      ['7', 'put', 't/1'],
      ['7', 'delete', 't/0'],
      ['7', 'put', 't/2'],
    ]);
  });

  it('a value with line breaks (LF, CR, CRLF) stays on one data line and reads back whole', () => {
    const value = 'line1\nline2\r\nline3\rend';
    const prev = 'p\n\nq';
    const text = changeFrames([put('k\nk', value, 5, prevOf(prev, 4))]);
    // Only the frame's own terminators: one LF after each field, the blank line at the end.
    expect(text.split('\n')).toHaveLength(5);
    expect(text).not.toContain('\r');
    expect(text.endsWith('\n\n')).toBe(true);
    expect(text.indexOf('\n\n')).toBe(text.length - 2);
    const [e] = parseStream(text);
    expect(JSON.parse(e.data)).toEqual({ key: 'k\nk', value, revision: 5, prevValue: prev });
  });

  it('non-ASCII keys and values, and text that looks like SSE fields, read back exactly', () => {
    const events = [put('ключ/é', 'data: x\n\nid: 99\nevent: delete', 8), put('🔑', '\u2028\u2029', 9, prevOf('v', 8))];
    const parsed = parseStream(changeFrames(events));
    expect(parsed).toHaveLength(2);
    expect(parsed.map((e) => e.id)).toEqual(['8', '9']);
    expect(parsed.map((e) => e.event)).toEqual(['put', 'put']);
    expect(parsed.map((e) => JSON.parse(e.data))).toEqual([
      { key: 'ключ/é', value: 'data: x\n\nid: 99\nevent: delete', revision: 8 },
      { key: '🔑', value: '\u2028\u2029', revision: 9, prevValue: 'v' },
    ]);
  });
});

describe('progressFrame', () => {
  it('an id (the resume point), event progress and the revision as data', () => {
    expect(progressFrame(42)).toBe('id: 42\nevent: progress\ndata: {"revision":42}\n\n');
    expect(parseStream(progressFrame(0))).toEqual([{ id: '0', event: 'progress', data: '{"revision":0}' }]);
  });

  it('moves the last event id past the changes before it', () => {
    const parsed = parseStream(changeFrames([put('a', 'x', 3)]) + progressFrame(10));
    expect(parsed.at(-1)).toEqual({ id: '10', event: 'progress', data: '{"revision":10}' });
  });
});

describe('compactedFrame', () => {
  it('event compacted with compactRevision as data', () => {
    expect(compactedFrame(17)).toBe('event: compacted\ndata: {"compactRevision":17}\n\n');
  });

  it('has no id line: a reconnect does not resume from it (the last id stays that of the last change)', () => {
    const parsed = parseStream(changeFrames([put('a', 'x', 3)]) + compactedFrame(17));
    expect(parsed.at(-1)).toEqual({ id: '3', event: 'compacted', data: '{"compactRevision":17}' });
  });
});
