// Shared by the bus specs only (not exported from the lib).
import { CLIENT_PRINCIPAL } from './auth';
import { Bus, BusOptions, Frame } from './bus';
import { testBusKeys } from './test-keys';

/** Endpoints named n1..n9 are replicas; any other name speaks as the client principal. */
export const REPLICAS = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9'];
const keys = testBusKeys([...REPLICAS, CLIENT_PRINCIPAL]);

/** The bus auth options of endpoint `self` under the specs' shared test keys. */
export function testAuth(self: string, extra: Partial<BusOptions['auth']> = {}): BusOptions['auth'] {
  return { keys: keys(REPLICAS.includes(self) ? self : CLIENT_PRINCIPAL), replicas: REPLICAS, ...extra };
}

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
  async start(given: Omit<BusOptions, 'url' | 'auth'> & { auth?: BusOptions['auth'] }): Promise<{ bus: Bus; frames: Frame[] }> {
    const opts = { ...given, auth: given.auth ?? testAuth(given.self) };
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
