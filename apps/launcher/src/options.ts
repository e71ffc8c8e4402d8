import { parseArgs as parseArgv } from 'node:util';
import { check, ConfigError, loadLauncherEnv, pieces } from '@app/config';
import type { Protocol } from '@app/wire';

export interface LauncherOptions {
  protocol: Protocol;
  nodes: number;
  /** Replica identities provisioned beyond --nodes (keys, Redis, ports), started when the admin API adds them. */
  spares: number;
  fresh: boolean;
  port: number;
  /** The gateway's bind address (HOST). */
  host: string;
  cluster: string;
  dataDir: string;
  /** One Redis for bus and every replica's storage (smallest set-up) instead of one per replica. */
  sharedRedis: boolean;
  /** Use this Redis for everything instead of spawning any. */
  redisUrl: string | null;
  appendfsync: 'always' | 'everysec' | 'no';
  /** Extra environment for the replicas (e.g. TICK_MS, SNAPSHOT_EVERY). */
  nodeEnv: Record<string, string>;
  gatewayEnv: Record<string, string>;
}

export const USAGE = `usage: npm start -- [options]
  --protocol raft|pbft     consensus protocol (raft)
  --nodes N                replicas, 1-31 (3 for raft, 4 for pbft; pbft needs 3f+1)
  --spares N               replicas to provision beyond --nodes, 0-28 (0): their keys and Redis
                           are ready, their processes start when POST /v1/admin/members adds them
                           (pbft: each configuration is 3f+1, so adds are staged until it is)
  --fresh                  delete the data directory first
  --port P                 gateway port (env PORT, 3000; 0 = any free port)
  --cluster NAME           cluster name (env CLUSTER, synod)
  --data DIR               data directory (data)
  --shared-redis           one Redis for every replica instead of one each
  --session-window N       request results each client keeps, 1-100000 (1000): a retry of an
                           older one is refused (409), never applied twice (env SESSION_WINDOW
                           of every replica)
  --gateway-workers N|auto gateway processes sharing the port, 1-64 (auto: a quarter of the
                           cores, at most 4, for raft; 1 for pbft; env GATEWAY_WORKERS of the
                           gateway): the HTTP side on more than one core
  --appendfsync always|everysec|no
                           the Redis servers' fsync policy (always)
  --node-env KEY=VALUE     extra environment for every replica (repeatable)
  --gateway-env KEY=VALUE  extra environment for the gateway (repeatable)
  -h, --help               this text
  env: PORT, CLUSTER, HOST (gateway bind address, 127.0.0.1),
       REDIS_URL (use this Redis for everything instead of spawning any), ADMIN_TOKEN`;

/** `--help` was asked for: print `usage` on stdout and exit 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string = USAGE) {
    super(usage);
    this.name = 'HelpRequested';
  }
}

/** Bad arguments or environment: every problem, then the usage. Exit 2. */
export class UsageError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.join('\n')}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  protocol: { type: 'string' },
  nodes: { type: 'string' },
  spares: { type: 'string' },
  fresh: { type: 'boolean' },
  port: { type: 'string' },
  cluster: { type: 'string' },
  data: { type: 'string' },
  'shared-redis': { type: 'boolean' },
  appendfsync: { type: 'string' },
  'session-window': { type: 'string' },
  'gateway-workers': { type: 'string' },
  'node-env': { type: 'string', multiple: true },
  'gateway-env': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

// The flags' checks are the environment's pieces, so `--port x` and `PORT=x` get the same rule.
const PROTOCOL = pieces.protocol();
const NODES = pieces.int(0, 1, 31);
const SPARES = pieces.int(0, 0, 28);
const PORT = pieces.port(3000);
const CLUSTER = pieces.id('synod');
const APPENDFSYNC = pieces.oneOf(['always', 'everysec', 'no'], 'always');
const HOST = pieces.host('127.0.0.1');
const SESSION_WINDOW = pieces.int(1000, 1, 100_000);
const GATEWAY_WORKERS = pieces.int(1, 1, 64);
/** `auto` passes through: the gateway resolves it (libs/config/src/gateway.ts, autoWorkers). */
const gatewayWorkers = (text: string): string | undefined => (text.trim() === 'auto' ? 'auto' : undefined);

/**
 * The launcher's command line over its environment. Throws HelpRequested for -h/--help, and
 * UsageError listing every bad flag and variable at once.
 */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): LauncherOptions {
  // Help wins over everything else on the line, even a mistake next to it.
  const flags = argv.indexOf('--') < 0 ? argv : argv.slice(0, argv.indexOf('--'));
  if (flags.includes('-h') || flags.includes('--help')) throw new HelpRequested();

  let values;
  try {
    values = parseArgv({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError([argvProblem(err as Error & { code?: string })]);
  }

  const problems: string[] = [];
  // A flag replaces its variable, so a bad PORT does not matter when --port is given.
  const fromEnv = (() => {
    const overridden = { ...env, ...(values.port !== undefined && { PORT: undefined }), ...(values.cluster !== undefined && { CLUSTER: undefined }) };
    try {
      return loadLauncherEnv(overridden);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return { port: 3000, cluster: 'synod', redisUrl: null };
    }
  })();
  const host = check(HOST, env.HOST, 'HOST', problems) ?? '127.0.0.1';

  const protocol = check(PROTOCOL, values.protocol, '--protocol', problems) ?? 'raft';
  let nodes = check(NODES, values.nodes, '--nodes', problems) ?? 0;
  const port = values.port === undefined ? fromEnv.port : check(PORT, values.port, '--port', problems);
  const cluster = values.cluster === undefined ? fromEnv.cluster : check(CLUSTER, values.cluster, '--cluster', problems);
  const appendfsync = check(APPENDFSYNC, values.appendfsync, '--appendfsync', problems) ?? 'always';
  if (values.nodes === undefined) nodes = protocol === 'pbft' ? 4 : 3;
  else if (protocol === 'pbft' && nodes > 0 && (nodes < 4 || (nodes - 1) % 3 !== 0))
    problems.push(`PBFT needs n = 3f+1 replicas (4, 7, ...), --nodes is ${nodes}`);

  const spares = values.spares === undefined ? 0 : (check(SPARES, values.spares, '--spares', problems) ?? 0);
  if (nodes + spares > 31) problems.push(`--nodes plus --spares is at most 31, got ${nodes + spares}`);
  const nodeEnv = pairs(values['node-env'], '--node-env', problems);
  // A replica setting, so it travels as one: the same on every replica (their digests must agree).
  if (values['session-window'] !== undefined) {
    const window = check(SESSION_WINDOW, values['session-window'], '--session-window', problems);
    if (window !== undefined) nodeEnv.SESSION_WINDOW = String(window);
  }
  const gatewayEnv = pairs(values['gateway-env'], '--gateway-env', problems);
  if (values['gateway-workers'] !== undefined) {
    const workers = gatewayWorkers(values['gateway-workers']) ?? check(GATEWAY_WORKERS, values['gateway-workers'], '--gateway-workers', problems);
    if (workers !== undefined) gatewayEnv.GATEWAY_WORKERS = String(workers);
  }
  if (problems.length > 0) throw new UsageError(problems);
  return {
    protocol,
    nodes,
    spares,
    fresh: values.fresh ?? false,
    port: port!,
    host,
    cluster: cluster!,
    dataDir: values.data ?? 'data',
    sharedRedis: values['shared-redis'] ?? false,
    redisUrl: fromEnv.redisUrl,
    appendfsync,
    nodeEnv,
    gatewayEnv,
  };
}

/** node:util's parse errors in this launcher's words (the option's name, not a code). */
function argvProblem(err: Error & { code?: string }): string {
  const name = /'(-[^' ]*)/.exec(err.message)?.[1] ?? /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unknown argument ${name}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(err.message) ? `${name} takes no value` : `${name} needs a value`;
    default:
      return err.message;
  }
}

/** KEY=VALUE flags, in order (a later KEY wins). Values may hold secrets: never quoted back. */
function pairs(list: string[] | undefined, flag: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problems.push(`${flag} must be KEY=VALUE with KEY a variable name`);
    else out[key] = item.slice(eq + 1);
  }
  return out;
}
