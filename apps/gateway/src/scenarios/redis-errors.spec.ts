import { ConnectionClosedError } from 'bullmq';
import Redis from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { isRedisUnavailable } from './redis-errors';

describe('isRedisUnavailable: a 503 for Redis away, the error itself for anything else', () => {
  it('a Redis that cannot be reached', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    for (const err of [
      refused,
      reset,
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Connection is closed.'),
      new ConnectionClosedError(),
      new MaxRetriesPerRequestError(3) as unknown as Error,
      new Error('LOADING Redis is loading the dataset in memory'),
    ])
      expect([err.message, isRedisUnavailable(err)]).toEqual([err.message, true]);
  });

  it('bugs and refusals are not', () => {
    for (const err of [
      new TypeError("Cannot read properties of undefined (reading 'steps')"),
      new SyntaxError('Unexpected token u in JSON at position 0'),
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new Error('ERR Error running script'),
    ])
      expect([err.message, isRedisUnavailable(err)]).toEqual([err.message, false]);
    expect(isRedisUnavailable('a string')).toBe(false);
    expect(isRedisUnavailable(undefined)).toBe(false);
  });

  it("what ioredis throws with no offline queue and nobody listening, as the service's client is set up", async () => {
    const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const err = await redis.get('x').catch((e: unknown) => e);
    expect(isRedisUnavailable(err)).toBe(true);
    redis.disconnect();
  });
});
