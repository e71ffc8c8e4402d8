// Shared by the bus specs only (not exported from the lib).
import { Bus, BusOptions, Frame } from './bus';

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A started bus that records every frame it gets; `stopAll()` stops every bus made so far. */
export class BusFleet {
  private readonly buses: Bus[] = [];
  private cluster = 0;

  constructor(private readonly url: () => string) {}

  /** A fresh cluster name, so tests sharing one Redis cannot hear each other. */
  nextCluster(): string {
    return `c${++this.cluster}-${process.pid}`;
  }

  /** On the fleet's one Redis, unless `opts.homes` says where each replica's inbox lives. */
  async start(opts: Omit<BusOptions, 'url'>): Promise<{ bus: Bus; frames: Frame[] }> {
    const bus = new Bus(opts.homes ? opts : { url: this.url(), ...opts });
    this.buses.push(bus);
    const frames: Frame[] = [];
    bus.onFrame((f) => frames.push(f));
    await bus.start();
    return { bus, frames };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.buses.splice(0).map((b) => b.stop()));
  }
}
