import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** What the registry reads from the replica at each collection (ReplicaService provides it). */
export interface ReplicaSource {
  status(): { alive: boolean; isolated: boolean; role: string; term: number; commitIndex: number; appliedIndex: number };
  /** Plain counter objects by group: `bus`, `replica`, `runtime` (absent while the runtime is killed). */
  counters(): Record<string, Record<string, number> | undefined>;
}

/**
 * Keys of the counter objects that are levels, not counts (the runtimes report both in one object):
 * exposed as gauges, without `_total`. Every other key is a counter.
 */
const GAUGE_KEYS: ReadonlySet<string> = new Set(['lowWaterMark', 'pendingRequests', 'logSize', 'pendingProposals', 'snapshotIndex']);

const snake = (s: string): string =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();

const GROUPS: Record<string, string> = {
  bus: "This replica's bus endpoint (Redis pub/sub) since the process started",
  replica: 'Frames the replica service refused before the protocol saw them',
  runtime: 'The protocol runtime since its last start (an admin kill/revive or a crash restarts it)',
};

function helpText(group: string, key: string): string {
  if (group === 'runtime' && key.startsWith('dropped_')) {
    return `Protocol messages dropped and counted, reason ${key.slice('dropped_'.length)} (failed signature, view, water-mark or digest check, ...).`;
  }
  return `${GROUPS[group] ?? group}: ${key}.`;
}

/** `synod_<group>_<key>` (+ `_total` for a counter): `runtime.dropped_bad_signature` -> `synod_runtime_dropped_bad_signature_total`. */
export function seriesName(group: string, key: string): { name: string; gauge: boolean } {
  const gauge = GAUGE_KEYS.has(key);
  return { name: `synod_${snake(group)}_${snake(key)}${gauge ? '' : '_total'}`, gauge };
}

/**
 * One replica's prom-client registry: Node.js/process default metrics, the replica's state as
 * gauges, and every counter of the bus, the replica service and the protocol runtime. The runtime's
 * counters come and go (a PBFT drop reason appears with its first drop; a killed replica has no
 * runtime), so those families are registered on first sight and removed when gone; call sync()
 * before reading the registry. Every series carries `node`.
 */
export class ReplicaRegistry {
  readonly registry = new Registry();
  private readonly dynamic = new Map<string, Counter | Gauge>();
  private values = new Map<string, number>();

  constructor(
    node: string,
    private readonly source: ReplicaSource,
  ) {
    this.registry.setDefaultLabels({ node });
    collectDefaultMetrics({ register: this.registry });
    const state = (name: string, help: string, read: (s: ReturnType<ReplicaSource['status']>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(source.status()));
        },
      });
    state('synod_node_alive', '1 while the protocol runtime runs (0 after an admin kill).', (s) => (s.alive ? 1 : 0));
    state('synod_node_isolated', '1 while consensus traffic is cut (admin isolate).', (s) => (s.isolated ? 1 : 0));
    state('synod_node_term', 'Raft term or PBFT view.', (s) => s.term);
    state('synod_node_commit_index', 'Raft commit index or PBFT last executed sequence number.', (s) => s.commitIndex);
    state('synod_node_applied_index', 'Last log index applied to the state machine.', (s) => s.appliedIndex);
    state('synod_node_is_leader', '1 on the Raft leader or the PBFT primary.', (s) => (s.role === 'leader' || s.role === 'primary' ? 1 : 0));
  }

  /** Brings the counter families in line with what the replica reports now. */
  sync(): void {
    const values = new Map<string, number>();
    for (const [group, counters] of Object.entries(this.source.counters())) {
      for (const [key, raw] of Object.entries(counters ?? {})) {
        const value = Number(raw);
        if (!Number.isFinite(value)) continue;
        const { name, gauge } = seriesName(group, key);
        values.set(name, value);
        if (!this.dynamic.has(name)) this.dynamic.set(name, this.register(name, gauge, helpText(group, key)));
      }
    }
    for (const [name] of this.dynamic) {
      if (values.has(name)) continue;
      this.registry.removeSingleMetric(name);
      this.dynamic.delete(name);
    }
    this.values = values;
  }

  async text(): Promise<string> {
    this.sync();
    return this.registry.metrics();
  }

  async snapshot() {
    this.sync();
    return this.registry.getMetricsAsJSON();
  }

  private register(name: string, gauge: boolean, help: string): Counter | Gauge {
    const read = () => this.values.get(name) ?? 0;
    if (gauge) {
      return new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    }
    return new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        // The runtime's own count; one that went down (the runtime was rebuilt) reads as a reset.
        this.reset();
        this.inc(Math.max(0, read()));
      },
    });
  }
}
