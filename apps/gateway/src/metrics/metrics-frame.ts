import type { MetricFamily, MetricFamilyType, MetricSample } from '@app/wire';

/**
 * Bounds on one replica's snapshot. A replica's registry holds ~40 families and ~300 samples
 * (default metrics included); anything far beyond is a bug or an attack, and would grow every
 * scrape of every gateway.
 */
export const MAX_FAMILIES = 1000;
export const MAX_SAMPLES = 20_000;
const MAX_LABELS = 32;
const MAX_TEXT = 1024;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;
const TYPES: ReadonlySet<string> = new Set<MetricFamilyType>(['counter', 'gauge', 'histogram', 'summary']);
/** The sample names a family of each type may carry besides its own name. */
const SUFFIXES: Record<MetricFamilyType, readonly string[]> = {
  counter: [],
  gauge: [],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

export type ParsedMetrics = { ok: true; families: MetricFamily[] } | { ok: false; reason: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A `metrics` frame body checked field by field, copied into fresh objects that hold only what the
 * exposition needs: names and label names Prometheus accepts (they are written unescaped), label
 * values as strings or numbers, sample names of the family's own, no duplicate families, and the
 * bounds above. Anything else is refused whole, with the reason.
 */
export function parseMetricsBody(body: unknown): ParsedMetrics {
  const fail = (reason: string): ParsedMetrics => ({ ok: false, reason });
  if (!isRecord(body) || body.t !== 'metrics') return fail('not a metrics body');
  if (!Array.isArray(body.families)) return fail('families is not an array');
  if (body.families.length > MAX_FAMILIES) return fail(`more than ${MAX_FAMILIES} families`);
  const seen = new Set<string>();
  const families: MetricFamily[] = [];
  let samples = 0;
  for (const f of body.families as unknown[]) {
    if (!isRecord(f)) return fail('a family is not an object');
    const { name, help, type, values } = f;
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) return fail(`bad metric name ${JSON.stringify(name)?.slice(0, 80)}`);
    if (seen.has(name)) return fail(`family ${name} twice`);
    seen.add(name);
    if (typeof help !== 'string' || help.length > MAX_TEXT) return fail(`bad help of ${name}`);
    if (typeof type !== 'string' || !TYPES.has(type)) return fail(`bad type of ${name}`);
    if (!Array.isArray(values)) return fail(`values of ${name} is not an array`);
    samples += values.length;
    if (samples > MAX_SAMPLES) return fail(`more than ${MAX_SAMPLES} samples`);
    const allowed = new Set([name, ...SUFFIXES[type as MetricFamilyType].map((s) => name + s)]);
    const out: MetricSample[] = [];
    for (const v of values as unknown[]) {
      const sample = parseSample(v, allowed);
      if (typeof sample === 'string') return fail(`${name}: ${sample}`);
      out.push(sample);
    }
    families.push({ name, help, type: type as MetricFamilyType, values: out });
  }
  return { ok: true, families };
}

function parseSample(v: unknown, allowed: ReadonlySet<string>): MetricSample | string {
  if (!isRecord(v)) return 'a sample is not an object';
  if (typeof v.value !== 'number') return 'a sample value is not a number';
  const sample: MetricSample = { value: v.value, labels: {} };
  if (v.metricName !== undefined) {
    if (typeof v.metricName !== 'string' || !allowed.has(v.metricName))
      return `sample name ${JSON.stringify(v.metricName)?.slice(0, 80)} is not of this family`;
    sample.metricName = v.metricName;
  }
  if (v.labels !== undefined) {
    if (!isRecord(v.labels)) return 'labels is not an object';
    const entries = Object.entries(v.labels);
    if (entries.length > MAX_LABELS) return `more than ${MAX_LABELS} labels`;
    const labels: Record<string, string | number> = {};
    for (const [k, lv] of entries) {
      if (!LABEL_NAME.test(k) || k.startsWith('__')) return `bad label name ${JSON.stringify(k).slice(0, 80)}`;
      if (lv === null || lv === undefined) continue; // an unset label, as msgpack carries undefined
      if (typeof lv === 'number') labels[k] = lv;
      else if (typeof lv === 'string' && lv.length <= MAX_TEXT) labels[k] = lv;
      else return `bad value of label ${k}`;
    }
    sample.labels = labels;
  }
  return sample;
}
