import Redis from 'ioredis';
import { redisOptions } from '@app/config';

/** The single-process deaths the supervisor must recover from, each a SIGKILL from outside. */
export const KILL_TARGETS = ['replica-leader', 'replica-follower', 'redis-leader', 'redis-follower', 'redis-queue', 'gateway'] as const;
export type KillTarget = (typeof KILL_TARGETS)[number];

/** What a kill needs to know of the cluster: the launcher's SYNOD_READY line. */
export interface KillContext {
  gateway: string;
  homes: Record<string, string>;
  queue: string;
}

async function json(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return res.json();
}

/** The pid a Redis reports of itself (it runs on this machine: the launcher spawned it). */
async function redisPid(url: string): Promise<number> {
  const r = new Redis({ ...redisOptions(url).options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const info = await r.info('server');
    return Number(/process_id:(\d+)/.exec(info)![1]);
  } finally {
    r.disconnect();
  }
}

/** The current leader and a follower, from the gateway's view. */
async function roles(ctx: KillContext): Promise<{ leader: any; follower: any }> {
  const s = await json(`${ctx.gateway}/v1/cluster`);
  const leader = s.nodes.find((n: any) => n.id === s.leader);
  const follower = s.nodes.find((n: any) => n.id !== s.leader && n.alive);
  if (!leader || !follower) throw new Error(`no leader and follower to pick from: ${JSON.stringify(s)}`);
  return { leader, follower };
}

/** The pid to SIGKILL for `target`, looked up now (pids change as the supervisor restarts things). */
export async function pidOf(ctx: KillContext, target: KillTarget): Promise<{ pid: number; what: string }> {
  switch (target) {
    case 'replica-leader':
    case 'replica-follower': {
      const { leader, follower } = await roles(ctx);
      const n = target === 'replica-leader' ? leader : follower;
      return { pid: n.pid, what: `replica ${n.id}` };
    }
    case 'redis-leader':
    case 'redis-follower': {
      const { leader, follower } = await roles(ctx);
      const n = target === 'redis-leader' ? leader : follower;
      return { pid: await redisPid(ctx.homes[n.id]), what: `redis of ${n.id} (its log and bus inbox)` };
    }
    case 'redis-queue':
      return { pid: await redisPid(ctx.queue), what: 'redis of the command queue' };
    case 'gateway':
      return { pid: (await json(`${ctx.gateway}/health/live`)).pid, what: 'gateway' };
  }
}

/** SIGKILL of the process behind `target`; returns when it was sent and what was killed. */
export async function kill(ctx: KillContext, target: KillTarget): Promise<{ at: number; what: string; pid: number }> {
  const { pid, what } = await pidOf(ctx, target);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid for ${target}: ${pid}`);
  process.kill(pid, 'SIGKILL');
  return { at: Date.now(), what, pid };
}
