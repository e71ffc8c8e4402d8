/** One Server-Sent Event, as the WHATWG HTML spec's "dispatch the event" step builds it. */
export interface SseEvent {
  /** The `event:` field; 'message' when the event had none. */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
  /** The last `id:` seen on the stream so far (the spec's last event ID: it carries over). */
  id: string;
}

/**
 * An incremental text/event-stream parser (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * feed it the decoded text in whatever pieces the network delivers, it returns the events each
 * piece completes. Lines end with CRLF, LF or CR — a CRLF split across two pieces is one line end —
 * `:` lines are comments (keep-alives), and an event ends at a blank line; one without data is
 * not dispatched, nor is an unfinished one when the stream ends.
 */
export class SseParser {
  private pending = '';
  private crAtEnd = false;
  private started = false;
  private eventType = '';
  private data: string[] = [];
  private lastId = '';

  feed(text: string): SseEvent[] {
    if (!this.started && text !== '') {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM, when the caller's decoder kept it
    }
    // The previous piece ended with CR: a LF that opens this one is the rest of that CRLF.
    if (this.crAtEnd && text.startsWith('\n')) text = text.slice(1);
    this.crAtEnd = false;
    const out: SseEvent[] = [];
    const buf = this.pending + text;
    let start = 0;
    // Only the new text can hold line ends: `pending` has none.
    for (let i = this.pending.length; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.line(buf.slice(start, i), out);
      if (c === 0x0d) {
        if (i + 1 === buf.length) this.crAtEnd = true;
        else if (buf.charCodeAt(i + 1) === 0x0a) i++;
      }
      start = i + 1;
    }
    this.pending = buf.slice(start);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') return this.dispatch(out);
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default: // `retry:` too: the watch has its own back-off
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length > 0) {
      out.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId });
    }
    this.eventType = '';
    this.data = [];
  }
}
