import Redis from 'ioredis';
import { channelFor } from '@app/bus';
import { encodeFrame, packBody, splitFrame } from '../../libs/bus/src/frame';
import type { ClusterInfo } from '../../apps/launcher/src/launcher';

/**
 * Someone who can reach every Redis of a cluster (the threat the bus's frame authentication is
 * for) but holds no key: reads what passes, publishes what it likes. It forges frames in the real
 * wire format, with no valid MAC; captures frames and Nest control packets; replays them as they
 * were or with a byte flipped.
 */
export class BusAttacker {
  private readonly pubs = new Map<string, Redis>(); // by replica id: a connection to its home Redis
  private seq = 0;

  constructor(private readonly info: ClusterInfo) {
    for (const n of info.nodes) this.pubs.set(n.id, new Redis(info.homes[n.id], { lazyConnect: false, maxRetriesPerRequest: 1 }));
  }

  /** A frame claiming to be from `from`, to replica `to`'s direct channel, without a valid MAC. */
  async forge(from: string, to: string, body: unknown): Promise<void> {
    const frame = encodeFrame({ from, inc: Date.now(), seq: ++this.seq, toInc: 0, macs: { [to]: Buffer.alloc(16) } }, packBody(body));
    await this.pubs.get(to)!.publish(channelFor(this.info.cluster, to), frame);
  }

  /** Everything published on `channel` of replica `node`'s Redis while `during` runs. */
  async capture(node: string, channel: string, during: () => Promise<unknown>): Promise<Buffer[]> {
    const sub = new Redis(this.info.homes[node]);
    const got: Buffer[] = [];
    try {
      sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => {
        if (ch.toString() === channel) got.push(Buffer.from(msg));
      });
      await sub.subscribe(channel);
      await during();
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      sub.disconnect();
    }
    return got;
  }

  async publish(node: string, channel: string, message: Buffer | string): Promise<void> {
    await this.pubs.get(node)!.publish(channel, message);
  }

  stop(): void {
    for (const r of this.pubs.values()) r.disconnect();
  }
}

/** The same frame with one byte of its body changed (its MAC no longer matches). */
export function flipBodyByte(frame: Buffer): Buffer {
  const split = splitFrame(frame);
  if (!split) throw new Error('not a frame');
  const out = Buffer.from(frame);
  const at = frame.length - split.body.length + Math.floor(split.body.length / 2);
  out[at] ^= 0x01;
  return out;
}

/** The value of a replica's bus refusal counter, as relayed on the gateway's /metrics (0 if absent). */
export function rejectedCount(metricsText: string, node: string, reason: 'bad_mac' | 'replayed' | 'stale_incarnation' | 'unknown_sender'): number {
  const re = new RegExp(`^synod_bus_rejected_${reason}_total\\{[^}]*node="${node}"[^}]*\\} (\\d+)`, 'm');
  return Number(re.exec(metricsText)?.[1] ?? 0);
}
