import { SseParser, type SseEvent } from './sse';

/** Feeds `pieces` one after the other and returns every event they complete. */
const parse = (...pieces: string[]): SseEvent[] => {
  const p = new SseParser();
  return pieces.flatMap((piece) => p.feed(piece));
};

describe('SseParser', () => {
  it('an event: its type, id and data; a blank line ends it', () => {
    expect(parse('id: 7\nevent: put\ndata: {"key":"a"}\n\n')).toEqual([{ event: 'put', data: '{"key":"a"}', id: '7' }]);
  });

  it.each(['\n', '\r\n', '\r'])('the same events whatever the chunk boundaries, down to one character at a time (line end %j)', (eol) => {
    const text = ['id: 7', 'event: put', 'data: {"key":"a"}', '', ': keep-alive', 'id: 8', 'event: delete', 'data: {"key":"b"}', '', ''].join(eol);
    const whole = parse(text);
    expect(whole).toEqual([
      { event: 'put', data: '{"key":"a"}', id: '7' },
      { event: 'delete', data: '{"key":"b"}', id: '8' },
    ]);
    expect(parse(...text.split(''))).toEqual(whole);
    for (let cut = 1; cut < text.length; cut++) expect(parse(text.slice(0, cut), text.slice(cut))).toEqual(whole);
  });

  it('several data lines are joined with a newline; one leading space of a value is dropped, no more', () => {
    expect(parse('data: one\ndata:  two\ndata:three\ndata\n\n')).toEqual([{ event: 'message', data: 'one\n two\nthree\n', id: '' }]);
  });

  it('comment lines (keep-alives) are ignored, also inside an event', () => {
    expect(parse(': ping\n\n', 'event: put\n:mid-event\ndata: x\n\n', ':\n')).toEqual([{ event: 'put', data: 'x', id: '' }]);
  });

  it('CRLF, CR and LF all end lines, and a CRLF split across two chunks is one line end', () => {
    const want = [
      { event: 'put', data: 'a', id: '1' },
      { event: 'put', data: 'b', id: '2' },
    ];
    expect(parse('id: 1\r\nevent: put\r\ndata: a\r\n\r\nid: 2\revent: put\rdata: b\r\r')).toEqual(want);
    // A CR at the end of a chunk and a LF at the start of the next: not a blank line in between.
    expect(parse('id: 1\r', '\nevent: put\r', '\ndata: a\r', '\n\r', '\nid: 2\nevent: put\ndata: b\n\n')).toEqual(want);
  });

  it('an event without data is not dispatched, but its id still counts', () => {
    expect(parse('id: 5\nevent: progress\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: '5' }]);
  });

  it('the last id carries over to events without one; an id with a NUL is ignored', () => {
    expect(parse('id: 3\ndata: a\n\ndata: b\n\nid: 4\0\ndata: c\n\n').map((e) => e.id)).toEqual(['3', '3', '3']);
  });

  it('an unfinished event is not dispatched; unknown fields and a leading BOM are ignored', () => {
    expect(parse('\uFEFFdata: a\nfoo: bar\nretry: 10\n\ndata: unfinished\n')).toEqual([{ event: 'message', data: 'a', id: '' }]);
  });
});
