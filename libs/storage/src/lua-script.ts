import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/**
 * EVALSHA, falling back to EVAL when the server does not know the script (first use,
 * restart, SCRIPT FLUSH). Done by hand rather than with defineCommand so that the store
 * adds no commands to a client it does not own.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    // One flat array: ioredis flattens it, and no spread of a large batch hits the call-stack limit.
    const params: (string | Buffer)[] = [...keys, ...args];
    try {
      return await redis.evalsha(this.sha, keys.length, params);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, params);
    }
  }
}
