import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { BUS_USER, QUEUE_USER, readRedisSecrets, SHARED_USER } from '../apps/launcher/src/redis-secrets';
import { TestCluster, waitFor } from './support/cluster';
import { startRedis, type TestRedis } from './support/redis-server';

jest.setTimeout(120_000);

type Login = [user: string, password: string] | null;

/**
 * One command on a fresh connection to the Redis on `port`, logged in as `login` (AUTH) or not at
 * all: the reply as a string, or the error's message (NOAUTH, WRONGPASS, NOPERM...).
 */
async function ask(port: number, login: Login, command: string, ...args: string[]): Promise<string> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    if (login) await r.call('AUTH', ...login);
    // ioredis must know a connection is subscribing (its reply is a push): subscribe(), not call().
    if (command === 'SUBSCRIBE') return String(await r.subscribe(...args));
    return String(await r.call(command, ...args));
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}

const portOf = (url: string): number => Number(new URL(url).port);

/**
 * What an outsider tries on a replica's Redis: with no credentials at all, and with the bus's
 * (which every replica and gateway holds): read its log, list its keys, write a key, publish
 * outside this cluster's channels. Each answer is a refusal on a Redis with Synod's ACL.
 */
async function outsiderAttempts(port: number, bus: Login, cluster: string, logKey: string): Promise<Record<string, string>> {
  return {
    'PING, no credentials': await ask(port, null, 'PING'),
    'GET, no credentials': await ask(port, null, 'GET', logKey),
    'PUBLISH, no credentials': await ask(port, null, 'PUBLISH', `synod:${cluster}:n:n2`, 'x'),
    'GET as bus': await ask(port, bus, 'GET', logKey),
    'XRANGE as bus': await ask(port, bus, 'XRANGE', logKey, '-', '+'),
    'KEYS as bus': await ask(port, bus, 'KEYS', '*'),
    'SET as bus': await ask(port, bus, 'SET', 'synod:planted', '1'),
    'FLUSHALL as bus': await ask(port, bus, 'FLUSHALL'),
    'CONFIG GET as bus': await ask(port, bus, 'CONFIG', 'GET', 'dir'),
    'PUBLISH outside the cluster as bus': await ask(port, bus, 'PUBLISH', `synod:not-${cluster}:n:n2`, 'x'),
    'SUBSCRIBE outside the cluster as bus': await ask(port, bus, 'SUBSCRIBE', '__keyevent@0__:set'),
  };
}

const REFUSED = /^(NOAUTH|NOPERM|WRONGPASS)/;

/**
 * The launcher's Redis servers under access control: `default` is off, each replica owns its own
 * Redis, and the cluster-wide `bus` user may only publish and subscribe on this cluster's channels.
 * So a replica (or anyone holding the bus password) can post into a peer's inbox, but can neither
 * read nor write its storage; and no password is ever printed.
 */
describe('Redis ACL: the launcher locks every Redis it starts', () => {
  let c: TestCluster;
  let secrets: Record<string, string>;
  let logKey: string; // a key of n2's storage (its log stream)

  beforeAll(async () => {
    c = await TestCluster.start(['--protocol', 'raft']);
    secrets = readRedisSecrets(c.info.keys)!;
    await c.waitForLeader();
    expect((await c.putUntilOk('acl/first', 'one')).status).toBe(200);
    const keys = (await ask(portOf(c.info.homes.n2), ['n2', secrets.n2], 'KEYS', '*')).split(',');
    logKey = keys.find((k) => k.endsWith(':log')) ?? keys[0];
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('keeps the passwords in the key directory, mode 0600, one per replica plus bus and queue', () => {
    expect(Object.keys(secrets).sort()).toEqual([BUS_USER, QUEUE_USER, 'n1', 'n2', 'n3'].sort());
    for (const pw of Object.values(secrets)) expect(pw).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(secrets)).size).toBe(5);
    expect(statSync(join(c.info.keys, 'redis.json')).mode & 0o777).toBe(0o600);
    expect(statSync(c.info.keys).mode & 0o077).toBe(0);
  });

  it("refuses outsiders on every replica's Redis: no credentials, or the bus user outside pub/sub", async () => {
    expect(logKey).toMatch(/^synod:/);
    const bus: Login = [BUS_USER, secrets[BUS_USER]];
    for (const id of ['n1', 'n2', 'n3']) {
      const answers = await outsiderAttempts(portOf(c.info.homes[id]), bus, c.info.cluster, logKey);
      for (const [what, answer] of Object.entries(answers)) expect({ id, what, answer }).toEqual({ id, what, answer: expect.stringMatching(REFUSED) });
    }
    // default is off, not merely password-protected; a wrong password is a wrong password.
    expect(await ask(portOf(c.info.homes.n2), ['default', ''], 'PING')).toMatch(/^WRONGPASS/);
    expect(await ask(portOf(c.info.homes.n2), [BUS_USER, 'not-the-password'], 'PING')).toMatch(/^WRONGPASS/);
    // The queue Redis: only the gateway's user.
    expect(await ask(portOf(c.info.queue), null, 'PING')).toMatch(/^NOAUTH/);
    expect(await ask(portOf(c.info.queue), bus, 'PING')).toMatch(/^WRONGPASS/);
  });

  it("lets the bus user publish into a peer's inbox, and subscribe on this cluster's channels", async () => {
    const bus: Login = [BUS_USER, secrets[BUS_USER]];
    // n2 listens on its inbox: at least one subscriber receives it (the replica drops it: no frame).
    expect(Number(await ask(portOf(c.info.homes.n2), bus, 'PUBLISH', `synod:${c.info.cluster}:n:n2`, 'not a frame'))).toBeGreaterThanOrEqual(1);
    expect(await ask(portOf(c.info.homes.n2), bus, 'PING')).toBe('PONG');
    // The URL the tests get (bus credentials put back from the key directory) works as ioredis's URL.
    const sub = new Redis(c.info.homes.n3, { maxRetriesPerRequest: 1 });
    try {
      await expect(sub.subscribe(`synod:${c.info.cluster}:n:n3`, `synod.${c.info.cluster}.control.n3.reply`)).resolves.toBe(2);
      await expect(sub.subscribe('synod:someone-else:n:n3')).rejects.toThrow(/NOPERM/);
    } finally {
      sub.disconnect();
    }
  });

  it("gives each replica its own Redis only: n1's password opens n1's storage, not n2's", async () => {
    expect(Number(await ask(portOf(c.info.homes.n1), ['n1', secrets.n1], 'DBSIZE'))).toBeGreaterThan(0);
    expect(await ask(portOf(c.info.homes.n2), ['n1', secrets.n1], 'PING')).toMatch(/^WRONGPASS/);
    expect(await ask(portOf(c.info.homes.n2), ['n2', secrets.n1], 'PING')).toMatch(/^WRONGPASS/);
    expect(await ask(portOf(c.info.homes.n2), ['n1', secrets.n1], 'GET', logKey)).toMatch(/^WRONGPASS/);
    expect(await ask(portOf(c.info.queue), ['n1', secrets.n1], 'PING')).toMatch(/^WRONGPASS/);
    expect(await ask(portOf(c.info.queue), [QUEUE_USER, secrets[QUEUE_USER]], 'PING')).toBe('PONG');
  });

  it('still elects a leader and serves a write and a linearizable read through the gateway', async () => {
    await c.waitForLeader();
    expect((await c.putUntilOk('acl/greeting', 'hello')).status).toBe(200);
    const got = await c.get('acl/greeting');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ key: 'acl/greeting', value: 'hello' });
  });

  it("a storage restart (admin) brings n1's Redis back with the same users, and n1 back into the cluster", async () => {
    const n1: Login = ['n1', secrets.n1];
    const n1Log = logKey.replace(':n2}', ':n1}');
    // Concurrent writes: batches whose Lua scripts write several keys, logged as MULTI/EXEC in the AOF.
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => c.put(`acl/burst-${i}`, String(i))));
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThan(30);
    await c.waitForConvergence(30_000, ['n1']);
    const before = await ask(portOf(c.info.homes.n1), n1, 'INFO', 'server');
    const logBefore = await ask(portOf(c.info.homes.n1), n1, 'XLEN', n1Log);
    expect(Number(logBefore)).toBeGreaterThan(0);
    const restart = await c.admin('n1', 'storage/restart');
    expect(restart.status).toBe(200);
    expect(restart.body).toMatchObject({ id: 'n1', storageRunning: true });
    const after = await ask(portOf(c.info.homes.n1), ['n1', secrets.n1], 'INFO', 'server');
    expect(/process_id:(\d+)/.exec(after)?.[1]).not.toBe(/process_id:(\d+)/.exec(before)?.[1]); // a new process
    // Everything n1 had persisted came back from the AOF: Redis 7.0 replays a Lua script's writes
    // (MULTI/EXEC in the AOF) under `default`'s ACL, so a `default` without commands would lose them.
    await waitFor(async () => !/LOADING/.test(await ask(portOf(c.info.homes.n1), n1, 'PING')), 10_000, 'the AOF loaded');
    expect(Number(await ask(portOf(c.info.homes.n1), n1, 'XLEN', n1Log))).toBeGreaterThanOrEqual(Number(logBefore));
    expect(await ask(portOf(c.info.homes.n1), null, 'PING')).toMatch(/^NOAUTH/);
    expect(await ask(portOf(c.info.homes.n1), [BUS_USER, secrets[BUS_USER]], 'GET', logKey)).toMatch(/^NOPERM/);
    const put = await c.putUntilOk('acl/after-restart', 'two');
    expect(put.status).toBe(200);
    // n1 reconnects to its storage with its own user, and applies what was written meanwhile.
    await waitFor(
      async () => {
        const n1 = (await c.clusterState()).nodes.find((n: any) => n.id === 'n1');
        return n1?.alive === true && n1.appliedIndex >= put.body.revision;
      },
      40_000,
      'n1 alive and caught up after its storage restart',
    );
  });

  it('never shows a password: not in the output, SYNOD_READY, /v1/cluster, /metrics, nor a Redis command line', async () => {
    const cluster = JSON.stringify(await c.clusterState());
    const metrics = String((await c.http('GET', '/metrics')).body);
    const ready = /SYNOD_READY (.*)\n/.exec(c.logs())![1];
    expect(ready).toContain(`redis://${BUS_USER}:***@`);
    // The Redis servers get only SHA-256 hashes of the passwords on their command lines (ps).
    const pid = /process_id:(\d+)/.exec(await ask(portOf(c.info.homes.n2), ['n2', secrets.n2], 'INFO', 'server'))![1];
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    for (const [user, pw] of Object.entries(secrets)) {
      for (const [where, text] of [
        ['launcher output', c.logs()],
        ['/v1/cluster', cluster],
        ['/metrics', metrics],
        ['redis-server command line', cmdline],
      ]) {
        expect({ where, user, leaked: text.includes(pw) }).toEqual({ where, user, leaked: false });
      }
    }
  });
});

describe('Redis ACL: a launcher restart on the same data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synod-acl-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reuses the passwords, and the replicas read back what they stored under them', async () => {
    const first = await TestCluster.start(['--data', dir]);
    let secrets: Record<string, string>;
    try {
      secrets = readRedisSecrets(first.info.keys)!;
      expect((await first.putUntilOk('acl/kept', 'across restarts')).status).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await TestCluster.start(['--data', dir]);
    try {
      expect(readRedisSecrets(second.info.keys)).toEqual(secrets);
      await second.waitForLeader();
      expect((await second.get('acl/kept')).body).toMatchObject({ key: 'acl/kept', value: 'across restarts' });
      expect(await ask(portOf(second.info.homes.n1), ['n1', secrets.n1], 'PING')).toBe('PONG');
      expect(await ask(portOf(second.info.homes.n1), null, 'PING')).toMatch(/^NOAUTH/);
    } finally {
      await second.stop();
    }
  });
});

describe('Redis ACL: --shared-redis', () => {
  it('gives the one Redis one owner, synod, and refuses everyone else', async () => {
    const c = await TestCluster.start(['--shared-redis']);
    try {
      const secrets = readRedisSecrets(c.info.keys)!;
      expect(Object.keys(secrets)).toEqual([SHARED_USER]);
      expect(new Set(Object.values(c.info.homes))).toEqual(new Set([c.info.queue]));
      expect(c.info.queue).toContain(`//${SHARED_USER}:`);
      expect(await ask(portOf(c.info.queue), null, 'PING')).toMatch(/^NOAUTH/);
      expect((await c.putUntilOk('acl/shared', 'one')).status).toBe(200);
      expect((await c.get('acl/shared')).body).toMatchObject({ value: 'one' });
      expect(c.logs()).not.toContain(secrets[SHARED_USER]);
    } finally {
      await c.stop();
    }
  });
});

/**
 * The canary: the same outsider attempts against a Redis started the old way (no ACL) all go
 * through, so the refusals above are the ACL's doing and the checks can tell the two apart.
 */
describe('Redis ACL canary: a Redis without access control lets the same attempts through', () => {
  let open: TestRedis;

  beforeAll(async () => {
    open = await startRedis({ appendfsync: 'no' });
    const owner = new Redis(open.port, '127.0.0.1');
    await owner.xadd('synod:{c:n2}:log', '1-1', 'e', 'x');
    owner.disconnect();
  });
  afterAll(async () => {
    await open?.stop();
  });

  it('answers every attempt without NOAUTH or NOPERM', async () => {
    // No bus user exists there: the attempts "as bus" go without credentials, as an attacker would.
    const answers = await outsiderAttempts(open.port, null, 'c', 'synod:{c:n2}:log');
    for (const [what, answer] of Object.entries(answers)) expect({ what, answer }).toEqual({ what, answer: expect.not.stringMatching(REFUSED) });
    expect(answers['PING, no credentials']).toBe('PONG');
    expect(answers['XRANGE as bus']).toContain('1-1');
  });
});
