import { Counter, Gauge, type Registry } from 'prom-client';

/** Samples read at scrape time: label values -> number, or one number for a family without labels. */
export type Reading = number | Array<[Record<string, string>, number]>;

interface Spec {
  name: string;
  help: string;
  labelNames?: string[];
  read: () => Reading;
}

/**
 * A counter whose value lives elsewhere (the bus's and the consensus client's own plain counters,
 * which stay cheap on the hot path): prom-client asks for it at scrape time through collect().
 * A value that went down (a component rebuilt) is exposed as is; Prometheus reads that as a reset.
 */
export function counterOf(registry: Registry, spec: Spec): Counter<string> {
  return new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      const r = spec.read();
      if (typeof r === 'number') this.inc(sane(r));
      else for (const [labels, v] of r) this.inc(labels, sane(v));
    },
  });
}

/** A gauge read at scrape time. */
export function gaugeOf(registry: Registry, spec: Spec): Gauge<string> {
  return new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      this.reset();
      const r = spec.read();
      if (typeof r === 'number') this.set(finite(r));
      else for (const [labels, v] of r) this.set(labels, finite(v));
    },
  });
}

/** `{ key: n }` -> one sample per key under `label`. */
export function byLabel(label: string, counts: Record<string, number>): Array<[Record<string, string>, number]> {
  return Object.entries(counts).map(([k, v]) => [{ [label]: k }, v]);
}

const finite = (v: number): number => (Number.isFinite(v) ? v : 0);
const sane = (v: number): number => (Number.isFinite(v) && v > 0 ? v : 0);
