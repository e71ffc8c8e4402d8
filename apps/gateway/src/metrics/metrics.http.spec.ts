import Redis from 'ioredis';
import { Counter, Histogram, Registry } from 'prom-client';
import { CLIENT_PRINCIPAL, FrameAuth, topicChannel } from '@app/bus';
import { METRICS_TOPIC, type MetricsBody } from '@app/wire';
import { startRedis, type TestRedis } from '../../../../test/support/redis-server';
import { startFakeCluster, type FakeReplica } from '../testing/fake-replica';
import { http, startGateway, waitUntil, type RunningGateway } from '../testing/gateway-harness';
import { testBusAuth } from '../testing/test-keys';
import { ReplicaSeries } from './replica-series';

jest.setTimeout(30_000);

const CLUSTER = 'metricshttp';
let redis: TestRedis;
let gw: RunningGateway;
let cluster: Awaited<ReturnType<typeof startFakeCluster>>;
/** Publishes on the bus as replica n1 (a replica's registry snapshot), through n1's own bus and keys. */
let publisher: FakeReplica;
/** Garbage and forgeries straight onto the Redis. */
let raw: Redis;
const METRICS_CHANNEL = topicChannel(CLUSTER, METRICS_TOPIC);

beforeAll(async () => {
  redis = await startRedis({ appendfsync: 'no' });
  cluster = await startFakeCluster(redis.url, CLUSTER, ['n1', 'n2', 'n3']);
  gw = await startGateway({ BUS_URL: redis.url, CLUSTER, NODES: 'n1,n2,n3' });
  publisher = cluster.replicas.get('n1')!;
  raw = new Redis(redis.url);
  await waitUntil('leader known', async () => (await http(gw.base, 'GET', '/health')).body.leader === 'n1');
});

/** A keyholder of the client key speaking as `self` (any name that is not one of NODES). */
function clientKeyholder(self: string): FrameAuth {
  return new FrameAuth({ ...testBusAuth(self, ['n1', 'n2', 'n3']), cluster: CLUSTER, self });
}

afterAll(async () => {
  raw?.disconnect();
  await gw?.close();
  await cluster?.stop();
  await redis?.stop();
});

const scrape = async (): Promise<string> => (await http(gw.base, 'GET', '/metrics')).text;

/** A registry like a replica's (apps/node/src/metrics): node label on every series, a counter, a histogram. */
async function replicaSnapshot(node: string, dropped: number): Promise<MetricsBody> {
  const r = new Registry();
  r.setDefaultLabels({ node });
  new Counter({ name: 'synod_runtime_dropped_bad_signature_total', help: 'PBFT messages dropped: bad signature.', registers: [r] }).inc(dropped);
  new Histogram({ name: 'synod_test_persist_seconds', help: 'Persist latency.', buckets: [0.01, 0.1], registers: [r] }).observe(0.05);
  return { t: 'metrics', families: (await r.getMetricsAsJSON()) as unknown as MetricsBody['families'] };
}

describe("the gateway's own /metrics", () => {
  it('is Prometheus text with a latency histogram by route template, method and status, and process/runtime metrics', async () => {
    expect((await http(gw.base, 'PUT', '/v1/kv/h1', { body: { value: 'v' } })).status).toBe(200);
    expect((await http(gw.base, 'PUT', '/v1/kv/h2', { body: { value: 'v' } })).status).toBe(200);
    const m = await http(gw.base, 'GET', '/metrics');
    expect(m.status).toBe(200);
    // Express reorders the parameters; what a scraper needs is the type and the format version
    expect(m.headers.get('content-type')).toMatch(/^text\/plain;/);
    expect(m.headers.get('content-type')).toContain('version=0.0.4');
    const text = m.text;
    expect(text).toContain('# TYPE synod_gateway_http_request_duration_seconds histogram');
    expect(text).toMatch(/^synod_gateway_http_request_duration_seconds_bucket\{le="0\.005",method="PUT",route="\/v1\/kv\/:key",status="200"\} \d+$/m);
    expect(text).toMatch(/^synod_gateway_http_request_duration_seconds_count\{method="PUT",route="\/v1\/kv\/:key",status="200"\} 2$/m);
    expect(text).not.toMatch(/route="\/v1\/kv\/h1"/); // templates, not URLs
    expect(text).toContain('# TYPE synod_gateway_bus_frames_total counter');
    expect(text).toMatch(/^synod_gateway_bus_frames_total\{kind="sent"\} [1-9]\d*$/m);
    expect(text).toMatch(/^synod_gateway_consensus_frames_total\{type="propose"\} [1-9]\d*$/m);
    expect(text).toMatch(/^synod_gateway_cluster_leader_known 1$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    // every sample belongs to a family that has HELP and TYPE lines, and every counter ends in _total
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1], x[2]]));
    for (const [name, type] of types) {
      expect(text).toContain(`# HELP ${name} `);
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
    for (const [, sample] of text.matchAll(/^([a-zA-Z_:][\w:]*?)(?:_bucket|_sum|_count)?(?:\{| )/gm)) {
      const family = types.has(sample) ? sample : [...types.keys()].find((f) => sample.startsWith(f));
      expect(family).toBeDefined();
    }
  });
});

describe("replicas' series through the gateway", () => {
  it('re-exposes a metrics frame from the bus with node="<sender>"', async () => {
    publisher.publish(METRICS_TOPIC, await replicaSnapshot('n1', 3));
    await waitUntil('n1 series on /metrics', async () => (await scrape()).includes('synod_runtime_dropped_bad_signature_total{node="n1"} 3'));
    const text = await scrape();
    expect(text).toContain('# TYPE synod_runtime_dropped_bad_signature_total counter');
    expect(text).toContain('# HELP synod_runtime_dropped_bad_signature_total PBFT messages dropped: bad signature.');
    expect(text).toContain('synod_test_persist_seconds_bucket{le="0.1",node="n1"} 1');
    expect(text).toContain('synod_test_persist_seconds_count{node="n1"} 1');
    expect(text).toMatch(/^synod_gateway_replica_metrics_nodes 1$/m);

    // the next snapshot replaces the last one
    publisher.publish(METRICS_TOPIC, await replicaSnapshot('n1', 5));
    await waitUntil('n1 updated', async () => (await scrape()).includes('synod_runtime_dropped_bad_signature_total{node="n1"} 5'));
    expect((await scrape()).match(/synod_runtime_dropped_bad_signature_total\{/g)).toHaveLength(1);
  });

  it('drops and counts garbage metrics frames, keeps serving the good series', async () => {
    const before = await scrape();
    const malformed = (t: string) => Number(/^synod_gateway_replica_metrics_frames_total\{outcome="malformed"\} (\d+)$/m.exec(t)?.[1]);
    const undecodable = (t: string) => Number(/^synod_gateway_bus_frames_total\{kind="malformed"\} (\d+)$/m.exec(t)?.[1]);
    expect(malformed(before)).toBe(0);

    publisher.publish(METRICS_TOPIC, { t: 'metrics', families: [{ name: 'bad name', help: '', type: 'counter', values: [] }] });
    publisher.publish(METRICS_TOPIC, {
      t: 'metrics',
      families: [{ name: 'synod_x', help: '', type: 'gauge', values: [{ value: 1, labels: { 'a"}': 'x' } }] }],
    });
    publisher.publish(METRICS_TOPIC, 'not even an object');
    publisher.publish(METRICS_TOPIC, {
      t: 'metrics',
      families: Array.from({ length: 5000 }, (_, i) => ({ name: `f${i}`, help: '', type: 'gauge', values: [] })),
    });
    await raw.publish(METRICS_CHANNEL, Buffer.from([1, 0xc1, 0xff, 0x00])); // not a frame
    // Authentic (the client key) but not from a replica: the series refuse them.
    const notANode = clientKeyholder('not a node id!');
    await raw.publish(METRICS_CHANNEL, notANode.seal(METRICS_CHANNEL, await replicaSnapshot('x', 1), [CLIENT_PRINCIPAL]));
    // A well-formed snapshot from a well-formed id that is not in NODES: not a replica of this cluster.
    const n9 = clientKeyholder('n9');
    await raw.publish(METRICS_CHANNEL, n9.seal(METRICS_CHANNEL, await replicaSnapshot('n9', 1), [CLIENT_PRINCIPAL]));

    await waitUntil('garbage counted', async () => malformed(await scrape()) === 6);
    const after = await scrape();
    expect(undecodable(after)).toBe(undecodable(before) + 1);
    expect(gw.app.get(ReplicaSeries).lastRefusal).toMatch(/"n9" is not a configured node/);
    expect(after).toContain('synod_runtime_dropped_bad_signature_total{node="n1"} 5');
    expect(after).not.toMatch(/bad name|synod_x\{|f4999|not a node id|node="n9"/);
    expect((await http(gw.base, 'GET', '/health')).status).toBe(200);
  });

  it('never takes a snapshot in the name of a replica from anyone but that replica', async () => {
    const rejected = (t: string, reason: string) =>
      Number(new RegExp(`^synod_gateway_bus_frames_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(t)?.[1]);
    const before = await scrape();
    // n2's key speaking as n1; the client key speaking as n1; n1's own frame, sent again.
    const n2AsN1 = new FrameAuth({ ...testBusAuth('n2', ['n1', 'n2', 'n3']), cluster: CLUSTER, self: 'n1' });
    const clientAsN1 = new FrameAuth({ ...testBusAuth('gw-x', ['n1', 'n2', 'n3']), cluster: CLUSTER, self: 'n1' });
    await raw.publish(METRICS_CHANNEL, n2AsN1.seal(METRICS_CHANNEL, await replicaSnapshot('n1', 1000), [CLIENT_PRINCIPAL]));
    await raw.publish(METRICS_CHANNEL, clientAsN1.seal(METRICS_CHANNEL, await replicaSnapshot('n1', 1001), [CLIENT_PRINCIPAL]));
    const captured: Buffer[] = [];
    const sub = new Redis(redis.url);
    try {
      await sub.subscribe(METRICS_CHANNEL);
      sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => void captured.push(msg));
      publisher.publish(METRICS_TOPIC, await replicaSnapshot('n1', 7));
      await waitUntil(
        'n1 snapshot 7 captured and shown',
        async () => captured.length === 1 && (await scrape()).includes('synod_runtime_dropped_bad_signature_total{node="n1"} 7'),
      );
    } finally {
      sub.disconnect();
    }
    publisher.publish(METRICS_TOPIC, await replicaSnapshot('n1', 8));
    await waitUntil('n1 snapshot 8', async () => (await scrape()).includes('synod_runtime_dropped_bad_signature_total{node="n1"} 8'));
    await raw.publish(METRICS_CHANNEL, captured[0]); // the replay would set it back to 7
    await waitUntil('forgeries and the replay counted', async () => {
      const t = await scrape();
      return rejected(t, 'badMac') === rejected(before, 'badMac') + 2 && rejected(t, 'replayed') === rejected(before, 'replayed') + 1;
    });
    const after = await scrape();
    expect(after).toContain('synod_runtime_dropped_bad_signature_total{node="n1"} 8');
    expect(after).not.toMatch(/synod_runtime_dropped_bad_signature_total\{node="n1"\} (1000|1001|7)$/m);
  });

  it("drops a replica's series once its last snapshot is older than the window", async () => {
    const series = gw.app.get(ReplicaSeries);
    publisher.publish(METRICS_TOPIC, await replicaSnapshot('n1', 6));
    await waitUntil('n1 fresh', async () => (await scrape()).includes('synod_runtime_dropped_bad_signature_total{node="n1"} 6'));
    series.maxAgeMs = 300;
    try {
      await waitUntil('n1 gone', async () => !(await scrape()).includes('node="n1"'), 5000);
      expect(await scrape()).toMatch(/^synod_gateway_replica_metrics_nodes 0$/m);
    } finally {
      series.maxAgeMs = 10_000;
    }
  });
});
