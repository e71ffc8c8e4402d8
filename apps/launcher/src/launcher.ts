import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { ConfigError, loadGatewayConfig, loadNodeConfig } from '@app/config';
import { ensureKeys, PBFT_ADMIN_ID, PBFT_CLIENT_ID, type SupervisorAction, type SupervisorActionOptions, type SupervisorStatus } from '@app/wire';
import { ManagedProcess } from './managed-process';
import type { LauncherOptions } from './options';
import { assertPortFree, freePort, RedisProcess, waitForPort } from './redis-process';
import { BUS_USER, busUser, ensureRedisSecrets, ownerUser, QUEUE_USER, SHARED_USER, type RedisUser } from './redis-secrets';
import { startSupervisorServer, UnknownNodeError } from './supervisor-server';

/** What the launcher prints on its `SYNOD_READY` line, for scripts and tests. */
export interface ClusterInfo {
  gateway: string;
  cluster: string;
  protocol: string;
  /**
   * Each replica's home Redis (its inbox on the bus, and its storage), as the bus reaches it: with
   * the `bus` user's credentials (pub/sub on this cluster's channels only). SYNOD_READY prints it
   * redacted; `withRedisCredentials` (redis-secrets.ts) puts the password back from `keys`.
   */
  homes: Record<string, string>;
  /** The Redis of the gateway's BullMQ command queue (its owner's credentials; redacted in SYNOD_READY). */
  queue: string;
  nodes: Array<{ id: string; pid: number }>;
  /** The key directory: every replica's and the gateways' bus keys (and PBFT signing keys). */
  keys: string;
}

interface ManagedNode {
  id: string;
  /** null until the replicas are spawned (the configuration is checked first). */
  proc: ManagedProcess | null;
  /** Its own Redis (bus home and storage); null when every replica shares one Redis. */
  redis: RedisProcess | null;
  /** Its home on the bus, as everyone reaches it (the `bus` user on its own Redis). */
  busUrl: string;
  /** Its storage, as only it reaches it (its own user, owner of its Redis). */
  storageUrl: string;
  /** A provisioned spare (--spares): started only when the admin API adds it (`join`). */
  spare: boolean;
  /** Its process ran at some point: a later `join` is a new machine, its storage wiped. */
  started: boolean;
  /** What its latest `join` added to its environment (PBFT: the configuration it trusts), kept across its restarts. */
  joinEnv: Record<string, string>;
}

/** The entry points of the built apps, next to this file in dist/. */
const DIST = resolve(__dirname, '..', '..');
const NODE_MAIN = join(DIST, 'node', 'src', 'main.js');
const GATEWAY_MAIN = join(DIST, 'gateway', 'src', 'main.js');

const log = (line: string): void => {
  process.stderr.write(`[launcher] ${line}\n`);
};

/**
 * A whole local cluster as supervised child processes: one Redis per replica (its bus inbox and its
 * storage, so that losing a Redis is losing exactly one replica), a Redis for the gateway's queue,
 * the replicas and the gateway. Any child that dies unasked is restarted with back-off; an admin's
 * hard kill or storage kill (through the supervisor's HTTP door) keeps it down until revived.
 */
export class Launcher {
  readonly nodes: ManagedNode[] = [];
  private readonly redis: RedisProcess[] = [];
  private gateway: ManagedProcess | null = null;
  private supervisor: Server | null = null;
  private queueUrl = '';
  private keysDir = '';
  gatewayUrl = '';

  constructor(private readonly o: LauncherOptions) {}

  async start(): Promise<void> {
    const dataDir = resolve(this.o.dataDir);
    if (this.o.fresh) rmSync(dataDir, { recursive: true, force: true });
    // The identities: the initial voters, then the spares the admin API may add at runtime. Each
    // has its keys, its Redis and its bus home from the start, so that every process knows where
    // to reach it; a spare's replica process starts when it joins.
    const ids = Array.from({ length: this.o.nodes + this.o.spares }, (_, i) => `n${i + 1}`);
    const voters = ids.slice(0, this.o.nodes);
    const keysDir = join(dataDir, 'keys');
    // Every frame on the bus is authenticated under these keys, whatever the protocol; `admin` signs
    // PBFT reconfigurations (the gateway holds its private key as the admin API's signer).
    ensureKeys(keysDir, [...ids, PBFT_CLIENT_ID, PBFT_ADMIN_ID]);
    this.keysDir = keysDir;

    // Fail fast, before anything is spawned, when the gateway's port is taken.
    const port = this.o.port === 0 ? await freePort() : this.o.port;
    const host = this.o.host;
    await assertPortFree(port, host, 'the gateway');

    // Every Redis the launcher spawns has users with passwords and `default` off (redis-secrets.ts);
    // an external REDIS_URL carries its own credentials, if any.
    const spawnsRedis = !this.o.redisUrl;
    const secrets = spawnsRedis
      ? ensureRedisSecrets(keysDir, this.o.sharedRedis ? [SHARED_USER] : [...ids, BUS_USER, QUEUE_USER])
      : ({} as Record<string, string>);
    const spawnRedis = async (name: string, users: RedisUser[]): Promise<RedisProcess> => {
      const r = new RedisProcess(name, await freePort(), join(dataDir, `redis-${name}`), this.o.appendfsync, log, users);
      this.redis.push(r);
      return r;
    };
    let shared: string | null = this.o.redisUrl;
    if (!shared && this.o.sharedRedis) shared = (await spawnRedis('shared', [ownerUser(SHARED_USER, secrets[SHARED_USER])])).urlAs(SHARED_USER);
    for (const id of ids) {
      // A replica's Redis: the replica owns it; everyone else may only publish into its inbox.
      const redis = shared ? null : await spawnRedis(id, [ownerUser(id, secrets[id]), busUser(this.o.cluster, secrets[BUS_USER])]);
      this.nodes.push({
        id,
        redis,
        busUrl: redis?.urlAs(BUS_USER) ?? shared!,
        storageUrl: redis?.urlAs(id) ?? shared!,
        proc: null,
        spare: !voters.includes(id),
        started: voters.includes(id),
        joinEnv: {},
      });
    }
    this.queueUrl = shared ?? (await spawnRedis('queue', [ownerUser(QUEUE_USER, secrets[QUEUE_USER])])).urlAs(QUEUE_USER);

    const busUrls = this.nodes.map((n) => `${n.id}=${n.busUrl}`).join(',');
    const common = {
      CLUSTER: this.o.cluster,
      NODES: ids.join(','),
      ...(this.o.spares > 0 ? { VOTERS: voters.join(',') } : {}),
      PROTOCOL: this.o.protocol,
      BUS_URLS: busUrls,
      KEYS_DIR: keysDir,
    };
    // BUS_URL / REDIS_URL from the caller's shell would contradict BUS_URLS: the launcher decides.
    const inherited = { ...process.env, BUS_URL: undefined, REDIS_URL: undefined };
    // Health ports chosen here, like every port the launcher hands out (freePort: none is taken twice).
    const httpPorts = await Promise.all(this.nodes.map(() => freePort()));
    const nodeEnvs = this.nodes.map((n, i) => ({
      ...inherited,
      ...common,
      NODE_ID: n.id,
      STORAGE_URL: n.storageUrl,
      HTTP_PORT: String(httpPorts[i]),
      ...(n.spare ? { JOIN: 'true' } : {}),
      ...this.o.nodeEnv,
    }));

    const token = randomBytes(24).toString('hex');
    const sup = await startSupervisorServer({ list: () => this.nodes.map((n) => this.status(n)), act: (id, a, o) => this.act(id, a, o) }, token);
    this.supervisor = sup.server;
    const gatewayEnv = {
      ...inherited,
      ...common,
      PORT: String(port),
      HOST: host,
      QUEUE_URL: this.queueUrl,
      SUPERVISOR_URL: sup.url,
      SUPERVISOR_TOKEN: token,
      ...this.o.gatewayEnv,
    };
    // The children's own schemas, checked here: a configuration they would refuse (exit 2) fails the
    // start with their words, instead of a "Synod is up" over children that cannot run.
    const refused = [...nodeEnvs.map((env) => problems(() => loadNodeConfig(env))), problems(() => loadGatewayConfig(gatewayEnv))].flat();
    if (refused.length > 0) throw new Error(`the children would refuse their configuration:\n  - ${refused.join('\n  - ')}`);

    await Promise.all(this.redis.map((r) => r.start()));
    const procs = this.nodes.map((n, i) => {
      const env = nodeEnvs[i];
      return (n.proc = new ManagedProcess(
        {
          name: `replica ${n.id}`,
          spawn: () => spawn(process.execPath, [NODE_MAIN], { env: { ...env, ...n.joinEnv }, stdio: ['ignore', 'inherit', 'inherit'] }),
        },
        log,
      ));
    });
    await Promise.all(procs.filter((_, i) => !this.nodes[i].spare).map((p) => p.start()));

    const reachHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.gateway = new ManagedProcess(
      {
        name: 'gateway',
        spawn: () => spawn(process.execPath, [GATEWAY_MAIN], { env: gatewayEnv, stdio: ['ignore', 'inherit', 'inherit'] }),
        ready: () => waitForPort(port, 30_000, reachHost),
      },
      log,
    );
    await this.gateway.start();
    this.gatewayUrl = `http://${reachHost.includes(':') ? `[${reachHost}]` : reachHost}:${port}`;
  }

  async stop(): Promise<void> {
    for (const p of [...this.nodes.map((n) => n.proc), this.gateway, ...this.redis.map((r) => r.proc)]) p?.release();
    await Promise.all([...this.nodes.map((n) => n.proc?.stop()), this.gateway?.stop()]);
    await new Promise<void>((r) => (this.supervisor ? this.supervisor.close(() => r()) : r()));
    await Promise.all(this.redis.map((r) => r.stop()));
  }

  private async act(id: string, action: SupervisorAction, options: SupervisorActionOptions = {}): Promise<SupervisorStatus> {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new UnknownNodeError(`unknown node ${JSON.stringify(id)}`);
    switch (action) {
      case 'hard-kill':
        log(`hard kill of replica ${id} (admin)`);
        await n.proc?.kill();
        break;
      case 'respawn':
        await n.proc?.start();
        break;
      case 'join':
        if (n.proc?.running) throw new Error(`replica ${id} is already running; remove it first to replace its machine`);
        // A new machine: nothing of an earlier life of this identity survives (a stale log and
        // vote would make it a voter of an old configuration).
        if (n.redis && n.started) {
          log(`join of ${id}: wiping its earlier storage`);
          await n.redis.stop();
          rmSync(n.redis.dir, { recursive: true, force: true });
          await n.redis.start();
        }
        // PBFT: the new replica trusts the configuration in force (the gateway's, which f+1 replicas vouched for).
        n.joinEnv = options.pbftConfiguration ? { JOIN: 'true', PBFT_CONFIGURATION: JSON.stringify(options.pbftConfiguration) } : {};
        log(`join of replica ${id} (admin)${options.pbftConfiguration ? `, trusting configuration ${options.pbftConfiguration.epoch}` : ''}`);
        n.started = true;
        await n.proc?.start();
        break;
      case 'retire':
        log(`retire of replica ${id} (admin)`);
        await n.proc?.stop();
        break;
      case 'storage-kill':
      case 'storage-restart':
        if (!n.redis) throw new Error('this cluster has one shared Redis, not one per replica');
        log(`${action} of redis ${id} (admin)`);
        await (action === 'storage-kill' ? n.redis.kill() : n.redis.restart());
        break;
    }
    return this.status(n);
  }

  private status(n: ManagedNode): SupervisorStatus {
    return {
      id: n.id,
      running: n.proc?.running ?? false,
      pid: n.proc?.pid ?? null,
      storageRunning: n.redis ? n.redis.running : null,
      restarts: n.proc?.restarts ?? 0,
    };
  }

  describe(): ClusterInfo {
    return {
      gateway: this.gatewayUrl,
      protocol: this.o.protocol,
      cluster: this.o.cluster,
      homes: Object.fromEntries(this.nodes.map((n) => [n.id, n.busUrl])),
      queue: this.queueUrl,
      nodes: this.nodes.map((n) => ({ id: n.id, pid: n.proc?.pid ?? 0 })),
      keys: this.keysDir,
    };
  }
}

/** The problems a configuration loader reports, or none. */
function problems(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

export { freePort };
