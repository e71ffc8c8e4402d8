import { redisOptions, type RedisUrlOptions } from '@app/config';

export { redisOptions };

/** The connection fields both ioredis and the Nest Redis transport take. */
export type RedisEndpoint = RedisUrlOptions;

/** Connection options from any Redis URL of the project (libs/config's one parser; Sentinel included). */
export function redisOptionsFromUrl(url: string): RedisEndpoint {
  return redisOptions(url).options;
}
