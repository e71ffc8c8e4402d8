import { z } from 'zod';
import { clusterShape } from './cluster';
import { parseEnv } from './config-error';
import { port, redisUrl } from './pieces';

/** What the launcher reads from its environment (its command line can override PORT and CLUSTER). */
export interface LauncherEnv {
  /** The gateway's port. */
  port: number;
  cluster: string;
  /** Use this Redis for everything instead of spawning any; null = spawn. */
  redisUrl: string | null;
}

/** The launcher's environment schema: the same pieces the replica and gateway read these with. */
export const launcherEnvSchema = z
  .object({ PORT: port(3000), CLUSTER: clusterShape.CLUSTER, REDIS_URL: redisUrl() })
  .transform((v): LauncherEnv => ({ port: v.PORT, cluster: v.CLUSTER, redisUrl: v.REDIS_URL ?? null }));

/** Reads and checks the launcher's environment; throws ConfigError listing every problem at once. */
export function loadLauncherEnv(env: Record<string, string | undefined>): LauncherEnv {
  return parseEnv(launcherEnvSchema, env, 'launcher');
}
