import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterInfo } from './launcher';

/**
 * Redis access control: who may log in to which Redis, and with which password.
 *
 * - a replica's home Redis (its storage and its bus inbox) has two users: the replica itself
 *   (`n1`, owner: every key, channel and command; its STORAGE_URL) and `bus` (one cluster-wide
 *   password: PUBLISH/SUBSCRIBE on this cluster's channels only, no key, no other command; every
 *   BUS_URLS entry). So a replica can post into a peer's inbox but never read or write its storage.
 * - the gateway's queue Redis: `gateway` (owner; QUEUE_URL).
 * - a Redis the launcher spawns for everything (`--shared-redis`): `synod` (owner; every URL).
 * - `default` is off everywhere: a connection without credentials can do nothing (see DEFAULT_USER).
 *
 * The passwords are random, made once, and kept in `<keys>/redis.json` (mode 0600, in the key
 * directory, mode 0700), so a restart on the same data directory reuses them. Redis is given only
 * their SHA-256 (`#<hash>`), so no password is on a command line (`ps`) or in a Redis config.
 */

export const REDIS_SECRETS_FILE = 'redis.json';
/** The pub/sub-only user of every replica's home Redis. */
export const BUS_USER = 'bus';
/** The owner of the gateway's queue Redis. */
export const QUEUE_USER = 'gateway';
/** The owner of a launcher-spawned Redis shared by everything (`--shared-redis`). */
export const SHARED_USER = 'synod';
/** compose only: a user that may PING and nothing else, for the containers' healthchecks. */
export const HEALTH_USER = 'health';

/**
 * What the bus needs of a Redis, and nothing more: ioredis's AUTH, its ready check (INFO), SELECT
 * for a URL's db, CLIENT SETNAME for a connection name, PING; the bus and the Nest Redis transport
 * (control plane) only PUBLISH and (UN)SUBSCRIBE.
 */
export const BUS_COMMANDS = [
  'publish',
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ping',
  'info',
  'client|setname',
  'client|getname',
  'hello',
  'auth',
  'select',
];

export interface RedisUser {
  name: string;
  password: string;
  /** ACL rules after `reset on #<hash>`. */
  rules: string[];
}

/** Full access: keys, channels, commands. */
export function ownerUser(name: string, password: string): RedisUser {
  return { name, password, rules: ['~*', '&*', '+@all'] };
}

/** PUBLISH/SUBSCRIBE on `cluster`'s channels (bus `synod:<cluster>:*`, control `synod.<cluster>.control.*`) only. */
export function busUser(cluster: string, password: string): RedisUser {
  return {
    name: BUS_USER,
    password,
    rules: ['resetkeys', 'resetchannels', `&synod:${cluster}:*`, `&synod.${cluster}.control.*`, '-@all', ...BUS_COMMANDS.map((c) => `+${c}`)],
  };
}

/** PING only: no key, no channel. */
export function healthUser(password: string): RedisUser {
  return { name: HEALTH_USER, password, rules: ['resetkeys', 'resetchannels', '-@all', '+ping', '+auth', '+hello'] };
}

export function passwordHash(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/**
 * `default` is disabled (`off`: no one can log in as it, and a connection that has not logged in
 * can do nothing but AUTH/HELLO: NOAUTH) and has no password (`resetpass`: not even an empty one),
 * but it keeps its permissions: Redis 7.0 replays the AOF's MULTI/EXEC blocks (how a Lua script's
 * writes are logged) under the `default` user's ACL, so a `default` stripped of its commands
 * silently drops every such block on a restart (seen as lost log entries after a Redis SIGKILL).
 */
const DEFAULT_USER = ['default', 'off', 'resetpass', '~*', '&*', '+@all'];

/** One ACL rule line per user, `default` first and disabled; passwords only as hashes. */
function aclLines(users: RedisUser[]): string[][] {
  return [DEFAULT_USER, ...users.map((u) => [u.name, 'reset', 'on', `#${passwordHash(u.password)}`, ...u.rules])];
}

/** redis-server arguments that define `users` and disable `default`. */
export function aclArgs(users: RedisUser[]): string[] {
  return aclLines(users).flatMap((line) => ['--user', ...line]);
}

/** The same as an ACL file (`--aclfile`), for compose's Redis containers. */
export function aclFileText(users: RedisUser[]): string {
  return aclLines(users)
    .map((line) => `user ${line.join(' ')}\n`)
    .join('');
}

/** `<keys>/redis.json`'s passwords by user, or null when there is no such file. */
export function readRedisSecrets(keysDir: string): Record<string, string> | null {
  const file = join(keysDir, REDIS_SECRETS_FILE);
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { passwords?: Record<string, string> };
  return { ...(parsed.passwords ?? {}) };
}

/**
 * The passwords of `users`, each made (32 random bytes, hex) the first time and kept in
 * `<keys>/redis.json` (mode 0600) for every later start.
 */
export function ensureRedisSecrets(keysDir: string, users: string[]): Record<string, string> {
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const passwords = readRedisSecrets(keysDir) ?? {};
  const missing = users.filter((u) => !passwords[u]);
  if (missing.length > 0) {
    for (const u of missing) passwords[u] = randomBytes(32).toString('hex');
    const file = join(keysDir, REDIS_SECRETS_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ passwords }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }
  return passwords;
}

/** `url` (no user part) with `user:password@` in it. */
export function withLogin(url: string, user: string, password: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/.exec(url);
  if (!m || hasLogin(url)) return url;
  return `${m[1]}${encodeURIComponent(user)}:${encodeURIComponent(password)}@${m[2]}`;
}

/** Whether a Redis URL names a user or password already. */
export function hasLogin(url: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
  return !!m && m[1].includes('@');
}

/**
 * A URL as printed (`redis://bus:***@127.0.0.1:6390`, see `redact`) with the password put back
 * from `secrets`; unchanged when its user has no password there (e.g. an external REDIS_URL).
 */
export function unredactUrl(url: string, secrets: Record<string, string>): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^:@/]+):\*\*\*@(.*)$/.exec(url);
  if (!m) return url;
  const password = secrets[decodeURIComponent(m[2])];
  return password === undefined ? url : `${m[1]}${m[2]}:${encodeURIComponent(password)}@${m[3]}`;
}

/**
 * The bus URLs of each replica's home Redis with the `bus` user's password: what a test or tool
 * that must speak on the bus (as a client, or as an attacker) connects with. `info` is the
 * launcher's SYNOD_READY line (its URLs redacted); the password comes from `info.keys`.
 */
export function busUrlsWithCredentials(info: Pick<ClusterInfo, 'homes' | 'keys'>): Record<string, string> {
  const secrets = readRedisSecrets(info.keys) ?? {};
  return Object.fromEntries(Object.entries(info.homes).map(([id, url]) => [id, unredactUrl(url, secrets)]));
}

/** The SYNOD_READY line's ClusterInfo with usable URLs: `homes` (bus user) and `queue` (its owner). */
export function withRedisCredentials(info: ClusterInfo): ClusterInfo {
  const secrets = readRedisSecrets(info.keys);
  if (!secrets) return info;
  return { ...info, homes: busUrlsWithCredentials(info), queue: unredactUrl(info.queue, secrets) };
}
