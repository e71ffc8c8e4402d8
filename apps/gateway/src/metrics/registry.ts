import { collectDefaultMetrics, Registry } from 'prom-client';

/** The gateway's prom-client registry (one per app, so tests can run several gateways in a process). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** A registry with prom-client's default metrics: process CPU, memory, fds, event-loop lag, GC, heap. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
