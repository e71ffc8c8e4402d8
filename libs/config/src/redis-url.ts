import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { redact } from './redact';

/** A Redis URL that cannot be used; the message never contains the URL's secrets. */
export class RedisUrlError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RedisUrlError';
  }
}

/**
 * The ioredis options a URL sets: a subset of RedisOptions, narrow enough that Nest's Redis transport
 * (whose options type differs from ioredis's in places like retryStrategy) takes them too.
 */
export type RedisUrlOptions = Pick<
  RedisOptions,
  | 'host'
  | 'port'
  | 'username'
  | 'password'
  | 'db'
  | 'tls'
  | 'sentinels'
  | 'name'
  | 'sentinelUsername'
  | 'sentinelPassword'
  | 'enableTLSForSentinelMode'
  | 'sentinelTLS'
  | 'failoverDetector'
>;

export interface ParsedRedisUrl {
  /** Give these to `new Redis(options)`, BullMQ's `connection`, or Nest's Redis transport. */
  options: RedisUrlOptions;
  /** The URL with its password hidden, for logs. */
  redacted: string;
}

const SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel'] as const;
const SENTINEL_PARAMS = ['sentinelUsername', 'sentinelPassword'];
const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The one Redis URL parser: every Redis connection of the project is made from its output, so every
 * component understands the same URLs.
 *
 *   redis://[user:pass@]host[:6379][/db]           plain TCP
 *   rediss://[user:pass@]host[:6379][/db]          TLS (the host name is checked against the certificate)
 *   redis+sentinel://[user:pass@]h1[:26379],h2[:26379]/<masterName>[/db][?sentinelUsername=…&sentinelPassword=…]
 *   rediss+sentinel://…                             the same, with TLS to the sentinels and the master
 *
 * With Sentinel the user and password are the master's (the data node's); sentinels that require
 * their own login take it from the query. IPv6 hosts go in brackets: redis://[::1]:6379.
 * Throws RedisUrlError, whose message quotes nothing of the URL (a mangled URL can put a piece of a
 * password anywhere); print it next to `redact(url)`.
 */
export function redisOptions(url: string): ParsedRedisUrl {
  const text = url.trim();
  const redacted = redact(text);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^#]*)$/.exec(text);
  if (!m) throw new RedisUrlError(text.includes('#') ? 'a Redis URL has no #fragment' : 'not a URL (expected redis://host:port)');
  const scheme = m[1].toLowerCase() as (typeof SCHEMES)[number];
  if (!SCHEMES.includes(scheme)) throw new RedisUrlError('the scheme must be redis://, rediss://, redis+sentinel:// or rediss+sentinel://');
  const sentinel = scheme.endsWith('+sentinel');
  const tls = scheme.startsWith('rediss');

  // The user part ends at the last @ (as in redact), so a raw ? / or @ in a password stays in it.
  const at = m[2].lastIndexOf('@');
  const userinfo = at < 0 ? null : m[2].slice(0, at);
  const [beforeQuery, query = ''] = splitOnce(m[2].slice(at + 1), '?');
  const [hostList, path] = splitOnce(beforeQuery, '/');

  const options: RedisUrlOptions = {};
  if (userinfo !== null) {
    const [user, pass] = splitOnce(userinfo, ':');
    if (user) options.username = decode(user, 'user name');
    if (pass) options.password = decode(pass, 'password');
  }

  const hosts = hostList.split(',').map((h) => hostPort(h, sentinel ? 26379 : 6379));
  const segments = path === undefined || path === '' ? [] : path.split('/');
  if (sentinel) {
    const [name, db, ...extra] = segments;
    if (!name) throw new RedisUrlError('a redis+sentinel URL needs the master name as its path: redis+sentinel://host:26379/<masterName>[/db]');
    const master = decode(name, 'master name');
    if (!MASTER_NAME.test(master)) throw new RedisUrlError('the master name must be 1-128 characters of [A-Za-z0-9._-]');
    if (extra.length > 0) throw new RedisUrlError('the path of a redis+sentinel URL is /<masterName>[/db]');
    options.sentinels = hosts;
    options.name = master;
    // Follow Sentinel's +switch-master, not only a closed socket: a master that is frozen or cut off
    // by a partition keeps its sockets open, and without this a client waits on it forever.
    options.failoverDetector = true;
    setDb(options, db);
    for (const [key, value] of new URLSearchParams(query)) {
      if (!SENTINEL_PARAMS.includes(key)) throw new RedisUrlError(`unknown query parameter (only ${SENTINEL_PARAMS.join(', ')})`);
      if (key === 'sentinelUsername') options.sentinelUsername = value;
      else options.sentinelPassword = value;
    }
    if (tls) Object.assign(options, { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} });
  } else {
    if (hosts.length !== 1) throw new RedisUrlError('one host only; several hosts need redis+sentinel://');
    if (segments.length > 1) throw new RedisUrlError('the path of a Redis URL is the database number: redis://host:6379/2');
    if (query !== '') throw new RedisUrlError('a redis:// URL takes no query parameters');
    Object.assign(options, hosts[0]);
    setDb(options, segments[0]);
    // Node refuses an IP address as the TLS server name (RFC 6066); then the certificate must name the IP.
    if (tls) options.tls = isIP(hosts[0].host) ? {} : { servername: hosts[0].host };
  }
  return { options, redacted };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RedisUrlError(`the ${what} has a bad %-escape`);
  }
}

function hostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*)(?::(\d*))?$/.exec(s.trim());
  const host = m ? m[1].replace(/^\[(.*)\]$/, '$1') : '';
  if (!m || host === '' || (!m[1].startsWith('[') && !HOST_NAME.test(host)) || (m[1].startsWith('[') && isIP(host) !== 6)) {
    throw new RedisUrlError('bad host (expected host[:port], with an IPv6 address in [brackets])');
  }
  if (m[2] === undefined || m[2] === '') return { host, port: defaultPort };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new RedisUrlError('the port must be 1-65535');
  return { host, port };
}

function setDb(options: RedisUrlOptions, db: string | undefined): void {
  if (db === undefined || db === '') return;
  if (!/^\d{1,9}$/.test(db)) throw new RedisUrlError('the database (the path) must be a number');
  if (Number(db) > 0) options.db = Number(db);
}
