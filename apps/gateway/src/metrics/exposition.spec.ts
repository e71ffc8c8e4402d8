import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricFamily } from '@app/wire';
import { expose } from './exposition';

async function replicaFamilies(dropped: number): Promise<MetricFamily[]> {
  const r = new Registry();
  new Counter({ name: 'synod_runtime_dropped_bad_signature_total', help: 'drops', registers: [r] }).inc(dropped);
  new Gauge({ name: 'process_resident_memory_bytes', help: 'rss', registers: [r] }).set(1000 + dropped);
  new Histogram({ name: 'synod_persist_seconds', help: 'h', buckets: [0.1], registers: [r] }).observe(0.05);
  return (await r.getMetricsAsJSON()) as unknown as MetricFamily[];
}

describe('expose', () => {
  it("merges the gateway's families with each replica's, one HELP/TYPE per name, replica samples labelled node", async () => {
    const own = new Registry();
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers: [own] }).set(5);
    new Counter({ name: 'synod_gateway_things_total', help: 't', labelNames: ['kind'], registers: [own] }).inc({ kind: 'a' }, 2);
    const { text, conflicts } = await expose(own, [
      { node: 'n1', receivedAt: 0, families: await replicaFamilies(3) },
      { node: 'n2', receivedAt: 0, families: await replicaFamilies(4) },
    ]);
    expect(conflicts).toBe(0);
    expect(text.match(/^# TYPE process_resident_memory_bytes gauge$/gm)).toHaveLength(1);
    expect(text).toContain('# HELP process_resident_memory_bytes Resident memory size in bytes.');
    expect(text).toMatch(/^process_resident_memory_bytes 5$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{node="n1"\} 1003$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{node="n2"\} 1004$/m);
    expect(text).toContain('synod_gateway_things_total{kind="a"} 2');
    expect(text).toContain('# TYPE synod_runtime_dropped_bad_signature_total counter');
    expect(text).toContain('synod_runtime_dropped_bad_signature_total{node="n1"} 3');
    expect(text).toContain('synod_runtime_dropped_bad_signature_total{node="n2"} 4');
    expect(text).toContain('# TYPE synod_persist_seconds histogram');
    expect(text).toContain('synod_persist_seconds_bucket{le="0.1",node="n1"} 1');
    expect(text).toContain('synod_persist_seconds_bucket{le="+Inf",node="n2"} 1');
    expect(text).toContain('synod_persist_seconds_count{node="n2"} 1');
  });

  it('leaves out a replica family whose name the gateway has with another type, and says how many', async () => {
    const own = new Registry();
    new Counter({ name: 'synod_runtime_dropped_bad_signature_total', help: 'mine', registers: [own] }).inc(1);
    const liar: MetricFamily = { name: 'synod_runtime_dropped_bad_signature_total', help: 'x', type: 'gauge', values: [{ value: 99 }] };
    const { text, conflicts } = await expose(own, [{ node: 'n9', receivedAt: 0, families: [liar] }]);
    expect(conflicts).toBe(1);
    expect(text).not.toContain('99');
    expect(text.match(/^# TYPE synod_runtime_dropped_bad_signature_total counter$/gm)).toHaveLength(1);
  });

  it('a replica cannot replace the node label it is given', async () => {
    const fam: MetricFamily = { name: 'synod_x', help: 'x', type: 'gauge', values: [{ value: 1, labels: { node: 'n1' } }] };
    const { text } = await expose(new Registry(), [{ node: 'n3', receivedAt: 0, families: [fam] }]);
    expect(text).toContain('synod_x{node="n3"} 1');
    expect(text).not.toContain('node="n1"');
  });
});
