import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ServerRedis } from '@nestjs/microservices';
import { asTransportError, ensureKeys, PBFT_CLIENT_ID, SupervisorRequest, SupervisorStatus, supervisorPattern } from '@app/wire';
import type { LauncherOptions } from './options';
import { RedisProcess, waitForPort } from './redis-process';

/** What the launcher prints on its `SYNOD_READY` line, for scripts and tests. */
export interface ClusterInfo {
  gateway: string;
  bus: string;
  cluster: string;
  protocol: string;
  nodes: Array<{ id: string; pid: number; storage: string }>;
}

interface ManagedNode {
  id: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | null;
  storage: RedisProcess | null;
}

/** The entry points of the built apps, next to this file in dist/. */
const DIST = resolve(__dirname, '..', '..');
const NODE_MAIN = join(DIST, 'node', 'src', 'main.js');
const GATEWAY_MAIN = join(DIST, 'gateway', 'src', 'main.js');

/**
 * A whole local cluster: Redis servers, replicas and the gateway as child processes, plus a
 * supervisor on the control bus that offers hard kills (SIGKILL) and respawns of replica processes
 * and of their storage Redis.
 */
export class Launcher {
  readonly nodes: ManagedNode[] = [];
  private busRedis: RedisProcess | null = null;
  private gateway: ChildProcess | null = null;
  private supervisor: ServerRedis | null = null;
  private stopping = false;
  busUrl = '';
  gatewayUrl = '';

  constructor(private readonly o: LauncherOptions) {}

  async start(): Promise<void> {
    const dataDir = resolve(this.o.dataDir);
    if (this.o.fresh) rmSync(dataDir, { recursive: true, force: true });
    const ids = Array.from({ length: this.o.nodes }, (_, i) => `n${i + 1}`);
    if (this.o.protocol === 'pbft') ensureKeys(join(dataDir, 'keys'), [...ids, PBFT_CLIENT_ID]);

    if (this.o.redisUrl) {
      this.busUrl = this.o.redisUrl;
    } else {
      this.busRedis = new RedisProcess('bus', await freePort(), join(dataDir, 'redis-bus'), this.o.appendfsync);
      await this.busRedis.start();
      this.busUrl = this.busRedis.url;
    }

    for (const id of ids) {
      let storage: RedisProcess | null = null;
      let storageUrl = this.busUrl;
      if (!this.o.redisUrl && !this.o.sharedRedis) {
        storage = new RedisProcess(`storage-${id}`, await freePort(), join(dataDir, `redis-${id}`), this.o.appendfsync);
        await storage.start();
        storageUrl = storage.url;
      }
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        CLUSTER: this.o.cluster,
        NODE_ID: id,
        NODES: ids.join(','),
        PROTOCOL: this.o.protocol,
        BUS_URL: this.busUrl,
        STORAGE_URL: storageUrl,
        HTTP_PORT: '0',
        KEYS_DIR: join(dataDir, 'keys'),
        ...this.o.nodeEnv,
      };
      this.nodes.push({ id, env, child: null, storage });
    }
    await this.startSupervisor();
    for (const n of this.nodes) this.spawnNode(n);

    const port = this.o.port === 0 ? await freePort() : this.o.port;
    this.gateway = spawn(process.execPath, [GATEWAY_MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        CLUSTER: this.o.cluster,
        BUS_URL: this.busUrl,
        NODES: ids.join(','),
        PROTOCOL: this.o.protocol,
        KEYS_DIR: join(dataDir, 'keys'),
        ...this.o.gatewayEnv,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.gateway.once('exit', (code, sig) => {
      if (!this.stopping) process.stderr.write(`[launcher] gateway exited (${code ?? sig})\n`);
    });
    await waitForPort(port, 30_000);
    this.gatewayUrl = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.nodes.map((n) => terminate(n.child)), terminate(this.gateway)]);
    await this.supervisor?.close();
    await Promise.all(this.nodes.map((n) => n.storage?.stop()));
    await this.busRedis?.stop();
  }

  private spawnNode(n: ManagedNode): void {
    const child = spawn(process.execPath, [NODE_MAIN], { env: n.env, stdio: ['ignore', 'inherit', 'inherit'] });
    n.child = child;
    child.once('error', (err) => process.stderr.write(`[launcher] replica ${n.id}: ${err.message}\n`));
    child.once('exit', (code, sig) => {
      if (!this.stopping && sig !== 'SIGKILL') process.stderr.write(`[launcher] replica ${n.id} exited (${code ?? sig})\n`);
    });
  }

  private async startSupervisor(): Promise<void> {
    const url = new URL(this.busUrl);
    const server = new ServerRedis({ host: url.hostname, port: Number(url.port || 6379), retryAttempts: Number.MAX_SAFE_INTEGER, retryDelay: 500 });
    server.addHandler(supervisorPattern(this.o.cluster), (req: SupervisorRequest) =>
      this.supervise(req).catch(asTransportError),
    );
    await new Promise<void>((resolve, reject) => server.listen((err?: unknown) => (err ? reject(err) : resolve())));
    this.supervisor = server;
  }

  private async supervise(req: SupervisorRequest): Promise<SupervisorStatus | SupervisorStatus[]> {
    if (req?.action === 'list') return this.nodes.map((n) => this.processStatus(n));
    const n = this.nodes.find((x) => x.id === req?.node);
    if (!n) throw new Error(`unknown node ${JSON.stringify(req?.node)}`);
    switch (req.action) {
      case 'hard-kill':
        await terminate(n.child, 'SIGKILL');
        break;
      case 'respawn':
        if (!isRunning(n.child)) this.spawnNode(n);
        break;
      case 'redis-kill':
        if (!n.storage) throw new Error('this cluster has no per-replica storage Redis');
        await n.storage.kill();
        break;
      case 'redis-restart':
        if (!n.storage) throw new Error('this cluster has no per-replica storage Redis');
        await n.storage.restart();
        break;
      default:
        throw new Error(`unknown supervisor action ${JSON.stringify(req.action)}`);
    }
    return this.processStatus(n);
  }

  private processStatus(n: ManagedNode): SupervisorStatus {
    return { id: n.id, running: isRunning(n.child), pid: isRunning(n.child) ? n.child!.pid ?? null : null };
  }

  describe(): ClusterInfo {
    return {
      gateway: this.gatewayUrl,
      bus: this.busUrl,
      protocol: this.o.protocol,
      cluster: this.o.cluster,
      nodes: this.nodes.map((n) => ({ id: n.id, pid: n.child?.pid ?? 0, storage: n.storage?.url ?? this.busUrl })),
    };
  }
}

function isRunning(c: ChildProcess | null): boolean {
  return c !== null && c.exitCode === null && c.signalCode === null;
}

async function terminate(c: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!c || !isRunning(c)) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill(signal);
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
