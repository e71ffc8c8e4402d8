import { choiceFlag, intFlag, numberFlag, parseFlags, UsageError } from '../cli';

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

export const USAGE = `usage: npm run chaos -- [--protocol raft|pbft] [--clients 8] [--duration 60] [--seed S]
                      [--canary stale-reads] [--out DIR] [--keys 6] [--durability-every-ms 20]
                      [--gateway-timeout-ms MS] [--client-timeout-ms MS]

  --protocol raft|pbft       the cluster to start (default raft)
  --clients N                concurrent workload clients (default 8)
  --duration S               seconds of workload under the nemesis (default 60)
  --seed S                   seeds the workload and the nemesis (default 1)
  --canary stale-reads       stale GETs while replicas are isolated: the check must catch them
  --out DIR                  history.json, violation.json, result.json, cluster.log
                             (default chaos-out/<protocol>-seed<S>)
  --keys N                   keys of the checked workload (default 6)
  --durability-every-ms MS   pause between durability writes; 0 turns them off (default 20)
  --gateway-timeout-ms MS    the gateway's REQUEST_TIMEOUT_MS (default: its own, 5000)
  --client-timeout-ms MS     the client's per-request timeout (default: gateway's + 3000, at least 8000)
  -h, --help                 this text

Exit status: 0 passed, 1 failed (violation, lost write, no convergence, unexpected status),
2 bad usage, 3 the run did not finish in time, 4 the tool itself failed.`;

const FLAGS = ['protocol', 'clients', 'duration', 'seed', 'canary', 'out', 'keys', 'durability-every-ms', 'client-timeout-ms', 'gateway-timeout-ms'] as const;

/** The command line; throws UsageError (or HelpRequested for --help). */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const v = parseFlags(argv, FLAGS);
  if (v.out === '') throw new UsageError('--out needs a directory');
  const o: ChaosOptions = {
    protocol: choiceFlag(v, 'protocol', ['raft', 'pbft'] as const, 'raft'),
    clients: intFlag(v, 'clients', 8, 1),
    duration: numberFlag(v, 'duration', 60, 1),
    seed: intFlag(v, 'seed', 1),
    canary: v.canary === undefined ? null : choiceFlag(v, 'canary', ['stale-reads'] as const, 'stale-reads'),
    outDir: v.out ?? '',
    keys: intFlag(v, 'keys', 6, 1),
    durabilityEveryMs: numberFlag(v, 'durability-every-ms', 20, 0),
    clientTimeoutMs: numberFlag(v, 'client-timeout-ms', 0, 100),
    gatewayTimeoutMs: v['gateway-timeout-ms'] === undefined ? null : intFlag(v, 'gateway-timeout-ms', 0, 10),
  };
  if (o.clientTimeoutMs === 0) o.clientTimeoutMs = Math.max(8000, (o.gatewayTimeoutMs ?? 5000) + 3000);
  if (!o.outDir) o.outDir = `chaos-out/${o.protocol}-seed${o.seed}${o.canary ? `-${o.canary}` : ''}`;
  return o;
}
