import type { Protocol } from '@app/wire';

export interface LauncherOptions {
  protocol: Protocol;
  nodes: number;
  fresh: boolean;
  port: number;
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

const USAGE = `usage: npm start -- [--protocol raft|pbft] [--nodes N] [--fresh] [--port P] [--cluster NAME]
                    [--data DIR] [--shared-redis] [--appendfsync always|everysec|no]
  env: PORT (gateway port, 3000), REDIS_URL (use this Redis instead of spawning), ADMIN_TOKEN`;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): LauncherOptions {
  const o: LauncherOptions = {
    protocol: 'raft',
    nodes: 0,
    fresh: false,
    port: Number(env.PORT ?? 3000),
    cluster: env.CLUSTER ?? 'synod',
    dataDir: 'data',
    sharedRedis: false,
    redisUrl: env.REDIS_URL || null,
    appendfsync: 'always',
    nodeEnv: {},
    gatewayEnv: {},
  };
  const fail = (msg: string): never => {
    throw new Error(`${msg}\n${USAGE}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => argv[++i] ?? fail(`${a} needs a value`);
    switch (a) {
      case '--protocol': {
        const p = val();
        if (p !== 'raft' && p !== 'pbft') fail(`--protocol must be raft or pbft, got ${p}`);
        o.protocol = p as Protocol;
        break;
      }
      case '--nodes':
        o.nodes = Number(val());
        if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 31) fail('--nodes must be an integer in [1, 31]');
        break;
      case '--fresh':
        o.fresh = true;
        break;
      case '--port':
        o.port = Number(val());
        break;
      case '--cluster':
        o.cluster = val();
        break;
      case '--data':
        o.dataDir = val();
        break;
      case '--shared-redis':
        o.sharedRedis = true;
        break;
      case '--appendfsync': {
        const v = val();
        if (v !== 'always' && v !== 'everysec' && v !== 'no') fail('--appendfsync must be always, everysec or no');
        o.appendfsync = v as LauncherOptions['appendfsync'];
        break;
      }
      case '--node-env': {
        const [k, ...rest] = val().split('=');
        o.nodeEnv[k] = rest.join('=');
        break;
      }
      case '--gateway-env': {
        const [k, ...rest] = val().split('=');
        o.gatewayEnv[k] = rest.join('=');
        break;
      }
      case '-h':
      case '--help':
        fail('');
        break;
      default:
        fail(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) fail(`invalid port ${o.port}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.cluster)) fail(`--cluster must be 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(o.cluster)}`);
  if (o.nodes === 0) o.nodes = o.protocol === 'pbft' ? 4 : 3;
  if (o.protocol === 'pbft' && (o.nodes < 4 || (o.nodes - 1) % 3 !== 0)) fail('PBFT needs n = 3f+1 replicas (4, 7, ...)');
  return o;
}
