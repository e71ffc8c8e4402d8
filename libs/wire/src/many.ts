/**
 * Several direct-channel bodies in one frame, each handled as if it had come alone from the frame's
 * sender: a gateway's reads and proposals to one replica in one event-loop turn, a replica's
 * answers to one gateway in one turn. One MAC, one PUBLISH and one socket write carry them all —
 * one frame per read cost a Raft leader ~40 % of its CPU under read load (issue 11's profile).
 */
export interface ManyBody {
  t: 'many';
  bodies: unknown[];
}

/** Bodies per frame at most: a frame stays small enough that one slow consumer delays few answers. */
export const MAX_BODIES_PER_FRAME = 64;

/** The frames that carry `bodies` to one endpoint, in order: one body alone as it is. */
export function framesFor(bodies: unknown[]): unknown[] {
  if (bodies.length <= 1) return bodies;
  const frames: ManyBody[] = [];
  for (let i = 0; i < bodies.length; i += MAX_BODIES_PER_FRAME) frames.push({ t: 'many', bodies: bodies.slice(i, i + MAX_BODIES_PER_FRAME) });
  return frames;
}

/**
 * The bodies a frame carries: a ManyBody's (at most MAX_BODIES_PER_FRAME of them, and none that is
 * itself a ManyBody: nesting is refused, not unfolded), any other body alone. null for a ManyBody
 * that breaks those rules (the receiver counts it as malformed).
 */
export function bodiesOf(body: unknown): unknown[] | null {
  if (typeof body !== 'object' || body === null || (body as { t?: unknown }).t !== 'many') return [body];
  const bodies = (body as { bodies?: unknown }).bodies;
  if (!Array.isArray(bodies) || bodies.length > MAX_BODIES_PER_FRAME) return null;
  if (bodies.some((b) => typeof b === 'object' && b !== null && (b as { t?: unknown }).t === 'many')) return null;
  return bodies;
}

/**
 * Collects the bodies for each endpoint and sends them as few frames (framesFor), in one pipeline:
 * `send` at the end of the event-loop turn, `add` at the caller's own `flush`.
 */
export class FrameCoalescer {
  private pending = new Map<string, unknown[]>();
  private scheduled = false;

  constructor(private readonly port: { send(to: string, body: unknown): void; batch(fn: () => void): void }) {}

  /** Queues a body for `to` until the next flush. */
  add(to: string, body: unknown): void {
    const list = this.pending.get(to);
    if (list) list.push(body);
    else this.pending.set(to, [body]);
  }

  /** Queues a body and flushes at the end of this event-loop turn. */
  send(to: string, body: unknown): void {
    this.add(to, body);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    this.port.batch(() => {
      for (const [to, bodies] of pending) for (const frame of framesFor(bodies)) this.port.send(to, frame);
    });
  }
}
