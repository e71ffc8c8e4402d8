export type Protocol = 'raft' | 'pbft';

export interface ChaosOptions {
  protocol: Protocol;
  /** Concurrent workload clients (each has one operation in flight). */
  clients: number;
  /** Seconds of workload under the nemesis (the finale comes after). */
  duration: number;
  seed: number;
  /** stale-reads: every GET asks for consistency=stale while the nemesis isolates replicas. */
  canary: 'stale-reads' | null;
  /** Where history.json, violation.json, result.json and cluster.log go. */
  outDir: string;
  /** Keys of the checked workload. */
  keys: number;
  /** Pause between two durability writes (ms); 0 turns the durability stream off. */
  durabilityEveryMs: number;
  /** The client gives up on a request after this long (above the gateway's deadline). */
  clientTimeoutMs: number;
  /** The gateway's REQUEST_TIMEOUT_MS (null: its default, 5 s). Short deadlines turn failovers into 503s and 504s. */
  gatewayTimeoutMs: number | null;
}

const USAGE = `usage: npm run chaos -- --protocol raft|pbft [--clients 8] [--duration 60] [--seed S]
                      [--canary stale-reads] [--out DIR] [--keys 6] [--durability-every-ms 20]
                      [--gateway-timeout-ms MS] [--client-timeout-ms MS]`;

export function parseChaosArgs(argv: string[]): ChaosOptions {
  const o: ChaosOptions = {
    protocol: 'raft',
    clients: 8,
    duration: 60,
    seed: 1,
    canary: null,
    outDir: '',
    keys: 6,
    durabilityEveryMs: 20,
    clientTimeoutMs: 0,
    gatewayTimeoutMs: null,
  };
  const fail = (msg: string): never => {
    throw new Error(`${msg}\n${USAGE}`);
  };
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) fail(`${name} needs a number >= ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--protocol':
        if (v !== 'raft' && v !== 'pbft') fail(`--protocol must be raft or pbft, got ${v}`);
        o.protocol = v as Protocol;
        i++;
        break;
      case '--clients':
        o.clients = Math.floor(num(a, v, 1));
        i++;
        break;
      case '--duration':
        o.duration = num(a, v, 1);
        i++;
        break;
      case '--seed':
        o.seed = Math.floor(num(a, v, 0));
        i++;
        break;
      case '--canary':
        if (v !== 'stale-reads') fail(`--canary must be stale-reads, got ${v}`);
        o.canary = 'stale-reads';
        i++;
        break;
      case '--out':
        if (!v) fail('--out needs a directory');
        o.outDir = v;
        i++;
        break;
      case '--keys':
        o.keys = Math.floor(num(a, v, 1));
        i++;
        break;
      case '--durability-every-ms':
        o.durabilityEveryMs = num(a, v, 0);
        i++;
        break;
      case '--client-timeout-ms':
        o.clientTimeoutMs = num(a, v, 100);
        i++;
        break;
      case '--gateway-timeout-ms':
        o.gatewayTimeoutMs = Math.floor(num(a, v, 10));
        i++;
        break;
      case '-h':
      case '--help':
        fail('');
        break;
      default:
        fail(`unknown argument ${a}`);
    }
  }
  if (o.clientTimeoutMs === 0) o.clientTimeoutMs = Math.max(8000, (o.gatewayTimeoutMs ?? 5000) + 3000);
  if (!o.outDir) o.outDir = `chaos-out/${o.protocol}-seed${o.seed}${o.canary ? `-${o.canary}` : ''}`;
  return o;
}
