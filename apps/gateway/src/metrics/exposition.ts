import { Registry, type Metric } from 'prom-client';
import type { MetricFamily, MetricSample } from '@app/wire';
import type { NodeSnapshot } from './replica-series';

export interface Exposition {
  text: string;
  /** Replica families left out because the gateway or an earlier replica has that name with another type. */
  conflicts: number;
}

/**
 * The gateway's own families plus every replica's, one family per name: a replica's samples get
 * `node="<id>"`, the gateway's keep their labels (so `process_cpu_seconds_total` has the gateway's
 * series and one per replica, under one HELP/TYPE as the text format requires). Rendered by
 * prom-client: each merged family goes into a throwaway Registry as a metric whose get() returns
 * it, the pattern prom-client's own AggregatorRegistry.aggregate() uses for cluster workers.
 */
export async function expose(own: Registry, replicas: readonly NodeSnapshot[]): Promise<Exposition> {
  const merged = new Map<string, MetricFamily>();
  for (const f of (await own.getMetricsAsJSON()) as unknown as MetricFamily[]) {
    merged.set(f.name, { name: f.name, help: f.help, type: f.type, values: [...f.values] });
  }
  let conflicts = 0;
  for (const { node, families } of replicas) {
    for (const f of families) {
      let into = merged.get(f.name);
      if (into === undefined) {
        into = { name: f.name, help: f.help, type: f.type, values: [] };
        merged.set(f.name, into);
      } else if (into.type !== f.type) {
        conflicts++;
        continue;
      }
      for (const v of f.values) into.values.push(withNode(v, node));
    }
  }
  const out = new Registry();
  for (const family of merged.values()) {
    const snapshot = { ...family, aggregator: 'sum' };
    out.registerMetric({ name: family.name, get: async () => snapshot } as unknown as Metric);
  }
  return { text: await out.metrics(), conflicts };
}

function withNode(v: MetricSample, node: string): MetricSample {
  return v.metricName === undefined
    ? { value: v.value, labels: { ...v.labels, node } }
    : { value: v.value, labels: { ...v.labels, node }, metricName: v.metricName };
}
