/** Just enough of the Prometheus text format (0.0.4) for the gateway's own numbers. */

export type Labels = Record<string, string>;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export interface Sample {
  labels?: Labels;
  value: number;
  /** suffix of the metric name, e.g. "_sum" */
  suffix?: string;
}

export function family(name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) lines.push(`${name}${s.suffix ?? ''}${labelText(s.labels ?? {})} ${Number.isFinite(s.value) ? s.value : 0}`);
  return lines.join('\n');
}

/**
 * Latency of the last `window` observations (a sliding reservoir, not a decaying sketch: simple,
 * and recent enough for a dashboard), plus the all-time sum and count Prometheus wants.
 */
export class Reservoir {
  private readonly values: number[] = [];
  private next = 0;
  sum = 0;
  count = 0;

  constructor(private readonly window = 1024) {}

  observe(v: number): void {
    this.sum += v;
    this.count++;
    if (this.values.length < this.window) this.values.push(v);
    else this.values[this.next] = v;
    this.next = (this.next + 1) % this.window;
  }

  quantile(q: number): number {
    if (this.values.length === 0) return 0;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}
