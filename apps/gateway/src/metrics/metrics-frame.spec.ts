import { Counter, Histogram, Registry } from 'prom-client';
import { MAX_FAMILIES, parseMetricsBody } from './metrics-frame';

const counter = (over: Record<string, unknown> = {}) => ({
  name: 'synod_x_total',
  help: 'x',
  type: 'counter',
  values: [{ value: 1, labels: { a: 'b' } }],
  ...over,
});

describe('parseMetricsBody', () => {
  it("takes what prom-client's getMetricsAsJSON() gives, histograms included", async () => {
    const registry = new Registry();
    new Counter({ name: 'synod_runtime_dropped_bad_signature_total', help: 'drops', registers: [registry] }).inc(3);
    new Histogram({ name: 'synod_persist_seconds', help: 'h', labelNames: ['store'], buckets: [0.1, 1], registers: [registry] }).observe({ store: 'log' }, 0.5);
    const families = await registry.getMetricsAsJSON();
    const parsed = parseMetricsBody({ t: 'metrics', families });
    expect(parsed).toEqual({
      ok: true,
      families: [
        { name: 'synod_runtime_dropped_bad_signature_total', help: 'drops', type: 'counter', values: [{ value: 3, labels: {} }] },
        expect.objectContaining({ name: 'synod_persist_seconds', type: 'histogram' }),
      ],
    });
    const h = parsed.ok ? parsed.families[1] : null;
    expect(h?.values).toContainEqual({ value: 1, labels: { le: '+Inf', store: 'log' }, metricName: 'synod_persist_seconds_bucket' });
    expect(h?.values).toContainEqual({ value: 0.5, labels: { store: 'log' }, metricName: 'synod_persist_seconds_sum' });
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /not a metrics body/],
    ['a string', 'metrics', /not a metrics body/],
    ['another frame type', { t: 'beacon', families: [] }, /not a metrics body/],
    ['families not an array', { t: 'metrics', families: {} }, /families is not an array/],
    ['a family not an object', { t: 'metrics', families: [42] }, /not an object/],
    ['a name Prometheus refuses', { t: 'metrics', families: [counter({ name: 'bad name{x="1"}' })] }, /bad metric name/],
    ['a name twice', { t: 'metrics', families: [counter(), counter()] }, /twice/],
    ['an unknown type', { t: 'metrics', families: [counter({ type: 'untyped' })] }, /bad type/],
    ['help not a string', { t: 'metrics', families: [counter({ help: 1 })] }, /bad help/],
    ['values not an array', { t: 'metrics', families: [counter({ values: 'x' })] }, /values of synod_x_total/],
    ['a value not a number', { t: 'metrics', families: [counter({ values: [{ value: '1' }] })] }, /not a number/],
    ['a label name with a quote', { t: 'metrics', families: [counter({ values: [{ value: 1, labels: { 'a"': 'b' } }] })] }, /bad label name/],
    ['a reserved label name', { t: 'metrics', families: [counter({ values: [{ value: 1, labels: { __name__: 'b' } }] })] }, /bad label name/],
    ['a label value object', { t: 'metrics', families: [counter({ values: [{ value: 1, labels: { a: {} } }] })] }, /bad value of label a/],
    [
      'a sample named after another family',
      { t: 'metrics', families: [counter({ values: [{ value: 1, metricName: 'synod_gateway_up' }] })] },
      /not of this family/,
    ],
    ['a bucket on a counter', { t: 'metrics', families: [counter({ values: [{ value: 1, metricName: 'synod_x_total_bucket' }] })] }, /not of this family/],
    ['too many families', { t: 'metrics', families: Array.from({ length: MAX_FAMILIES + 1 }, (_, i) => counter({ name: `f${i}` })) }, /more than/],
  ])('refuses %s', (_what, body, reason) => {
    const parsed = parseMetricsBody(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('drops unset (null) labels and keeps only known fields', () => {
    const parsed = parseMetricsBody({
      t: 'metrics',
      extra: 1,
      families: [counter({ aggregator: 'sum', values: [{ value: 2, labels: { a: null, b: 'c' }, junk: true }] })],
    });
    expect(parsed).toEqual({ ok: true, families: [{ name: 'synod_x_total', help: 'x', type: 'counter', values: [{ value: 2, labels: { b: 'c' } }] }] });
  });
});
