/** The connection fields both ioredis and the Nest Redis transport take. */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
}

/** Connection options from a redis:// or rediss:// URL (for clients that take no URL). */
export function redisOptionsFromUrl(url: string): RedisEndpoint {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const out: RedisEndpoint = { host: u.hostname, port: u.port ? Number(u.port) : 6379 };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  if (Number.isInteger(db) && db > 0) out.db = db;
  if (u.protocol === 'rediss:') out.tls = {};
  return out;
}
