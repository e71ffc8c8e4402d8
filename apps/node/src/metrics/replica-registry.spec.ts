import { ReplicaRegistry, seriesName, type ReplicaSource } from './replica-registry';

/** A replica as the registry sees it, every number settable by the test. */
function fakeReplica() {
  const state = { alive: true, isolated: false, role: 'primary', term: 3, commitIndex: 17, appliedIndex: 16 };
  const groups: Record<string, Record<string, number> | undefined> = {
    bus: { sent: 10, received: 12, malformed: 0, dropped: 1, handlerErrors: 0, reconnects: 0 },
    replica: { peerFramesDroppedIsolated: 0, framesWhileKilled: 0, unknownFrames: 2 },
    runtime: { requests: 5, persists: 4, logSize: 9, lowWaterMark: 0, dropped_bad_signature: 3 },
  };
  const source: ReplicaSource = { status: () => state, counters: () => groups };
  return { state, groups, registry: new ReplicaRegistry('n2', source) };
}

describe('ReplicaRegistry', () => {
  it('exposes counters as <group>_<key>_total with HELP and TYPE, levels as gauges, state gauges, all labelled node', async () => {
    const { registry } = fakeReplica();
    const text = await registry.text();
    expect(text).toContain('# TYPE synod_runtime_dropped_bad_signature_total counter');
    expect(text).toMatch(/# HELP synod_runtime_dropped_bad_signature_total .*bad_signature/);
    expect(text).toContain('synod_runtime_dropped_bad_signature_total{node="n2"} 3');
    expect(text).toContain('synod_bus_handler_errors_total{node="n2"} 0');
    expect(text).toContain('synod_replica_unknown_frames_total{node="n2"} 2');
    expect(text).toContain('# TYPE synod_runtime_log_size gauge');
    expect(text).toContain('synod_runtime_log_size{node="n2"} 9');
    expect(text).toContain('synod_runtime_low_water_mark{node="n2"} 0');
    expect(text).toContain('synod_node_term{node="n2"} 3');
    expect(text).toContain('synod_node_is_leader{node="n2"} 1');
    expect(text).toContain('synod_node_applied_index{node="n2"} 16');
    // prom-client's default metrics: process and Node.js runtime
    expect(text).toMatch(/^process_cpu_user_seconds_total\{node="n2"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{node="n2"\} /m);
    // every sample line of a synod family belongs to a family with a TYPE line
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const [, name] of text.matchAll(/^(synod_\w+)\{/gm)) expect(typed.has(name)).toBe(true);
  });

  it('follows the runtime: a new drop reason appears, a killed runtime takes its series along, values move', async () => {
    const r = fakeReplica();
    (r.groups.runtime as Record<string, number>).dropped_stale_view = 1;
    (r.groups.runtime as Record<string, number>).dropped_bad_signature = 8;
    let text = await r.registry.text();
    expect(text).toContain('synod_runtime_dropped_stale_view_total{node="n2"} 1');
    expect(text).toContain('synod_runtime_dropped_bad_signature_total{node="n2"} 8');

    r.groups.runtime = undefined;
    r.state.alive = false;
    r.state.role = 'dead';
    text = await r.registry.text();
    expect(text).not.toContain('synod_runtime_');
    expect(text).toContain('synod_node_alive{node="n2"} 0');
    expect(text).toContain('synod_node_is_leader{node="n2"} 0');

    // revive: a new runtime counts from zero again (Prometheus reads it as a counter reset)
    r.groups.runtime = { requests: 0, logSize: 0 };
    text = await r.registry.text();
    expect(text).toContain('synod_runtime_requests_total{node="n2"} 0');
  });

  it('gives a snapshot that carries the same series as JSON (what goes on the bus)', async () => {
    const { registry } = fakeReplica();
    const families = await registry.snapshot();
    const dropped = families.find((f) => f.name === 'synod_runtime_dropped_bad_signature_total');
    expect(dropped).toMatchObject({ type: 'counter', values: [{ value: 3, labels: { node: 'n2' } }] });
    expect(families.some((f) => (f.type as unknown as string) === 'histogram')).toBe(true); // nodejs_gc_duration_seconds
  });

  it.each([
    ['runtime', 'dropped_bad_signature', 'synod_runtime_dropped_bad_signature_total'],
    ['runtime', 'dropped_wrong-digest', 'synod_runtime_dropped_wrong_digest_total'],
    ['replica', 'peerFramesDroppedIsolated', 'synod_replica_peer_frames_dropped_isolated_total'],
    ['runtime', 'pendingProposals', 'synod_runtime_pending_proposals'],
  ])('names %s.%s %s', (group, key, name) => expect(seriesName(group, key).name).toBe(name));
});
