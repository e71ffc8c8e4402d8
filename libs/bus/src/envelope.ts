import type { FrameAuth, Opened, RejectReason } from './auth';

/**
 * A sealed frame carried inside another transport's message (the control plane's
 * @nestjs/microservices Redis transport, which speaks JSON): `{ frame: <base64> }`. It is
 * authenticated exactly as a bus frame is, so the control plane is no softer a door than the bus.
 */
export interface Envelope {
  frame: string;
}

/** `body` sealed for endpoint `to` on `channel` (bound to its incarnation when known). */
export function sealEnvelope(auth: FrameAuth, channel: string, to: string, body: unknown): Envelope {
  return { frame: auth.sealTo(channel, to, body).toString('base64') };
}

/**
 * The sender and body of an envelope received on `channel`, or why it is refused. Always `strict`:
 * a command must name this endpoint's current incarnation, so nothing captured before it restarted
 * is accepted, and within an incarnation nothing is accepted twice.
 */
export function openEnvelope(auth: FrameAuth, channel: string, msg: unknown): Opened | 'malformed' | RejectReason {
  const frame = (msg as Partial<Envelope> | null)?.frame;
  if (typeof frame !== 'string') return 'malformed';
  return auth.open(channel, Buffer.from(frame, 'base64'), { strict: true }) ?? 'malformed';
}
