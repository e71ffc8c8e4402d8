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
 * A counter or gauge whose value lives elsewhere (the bus's and the consensus client's own plain
 * counters, which stay cheap on the hot path): prom-client asks for it at scrape time through
 * collect(). A counter value that went down (a component rebuilt) is exposed as is; Prometheus reads
 * that as a reset. Not a number (or, for a counter, below zero) reads as 0.
 */
export function scraped(registry: Registry, kind: 'counter' | 'gauge', spec: Spec): void {
  const clean = kind === 'counter' ? sane : finite;
  const Metric = kind === 'counter' ? Counter : Gauge;
  new Metric({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    collect() {
      // After reset() adding is setting, and inc() is what both kinds have.
      this.reset();
      const r = spec.read();
      if (typeof r === 'number') this.inc(clean(r));
      else for (const [labels, v] of r) this.inc(labels, clean(v));
    },
  });
}

/** `{ key: n }` -> one sample per key under `label`. */
export function byLabel(label: string, counts: Record<string, number>): Array<[Record<string, string>, number]> {
  return Object.entries(counts).map(([k, v]) => [{ [label]: k }, v]);
}

const finite = (v: number): number => (Number.isFinite(v) ? v : 0);
const sane = (v: number): number => (Number.isFinite(v) && v > 0 ? v : 0);
