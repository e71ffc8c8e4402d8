// ---- replica -> topic 'metrics': each replica's Prometheus registry, re-exposed by gateways

/** Replicas publish a snapshot of their registry here every few seconds; gateways listen. */
export const METRICS_TOPIC = 'metrics';

/** One sample as prom-client's `Registry.getMetricsAsJSON()` gives it. */
export interface MetricSample {
  value: number;
  labels?: Record<string, string | number>;
  /** `<name>_bucket`, `_sum`, `_count` for histograms and summaries; absent = the family name. */
  metricName?: string;
}

export type MetricFamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** One metric family of that snapshot (prom-client's own fields, e.g. `aggregator`, may ride along). */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricFamilyType;
  values: MetricSample[];
}

/** The frame body; the replica is the frame's sender (`from`), which becomes the `node` label. */
export interface MetricsBody {
  t: 'metrics';
  families: MetricFamily[];
}
