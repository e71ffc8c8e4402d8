import { AvailabilityProbe } from './probe';
import { kill, type KillContext, type KillTarget } from './faults';

export interface TrialResult {
  target: KillTarget;
  what: string;
  /** ms from the SIGKILL to the first acknowledged write sent after it; null: none within the wait. */
  recoveryMs: number | null;
  acked: number;
  /** acknowledged writes that did not read back with their value afterwards */
  lost: string[];
  /** writes that failed while /health/ready said 200, beyond the grace period after the kill */
  falseReady: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns true, or throws after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
  await res.arrayBuffer();
  return res.status;
}

/** Every replica alive and ready, and a write goes through: the cluster is whole again. */
export async function whole(ctx: KillContext, timeoutMs = 60_000): Promise<void> {
  await until(
    'the whole cluster',
    async () => {
      const s = (await (await fetch(`${ctx.gateway}/v1/cluster`, { signal: AbortSignal.timeout(3000) })).json()) as any;
      if (!s.leader || !s.nodes.every((n: any) => n.alive)) return false;
      if ((await status(`${ctx.gateway}/health/ready`)) !== 200) return false;
      const put = { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"value":"whole"}' };
      return (await status(`${ctx.gateway}/v1/kv/availability-whole`, put)) === 200;
    },
    timeoutMs,
  );
}

/**
 * One SIGKILL of `target` under a steady write load: how long until writes succeed again, whether
 * every acknowledged write reads back, and whether readiness told the truth.
 */
export async function killTrial(ctx: KillContext, target: KillTarget, label: string, readyGraceMs = 1500): Promise<TrialResult> {
  await whole(ctx);
  const probe = new AvailabilityProbe(() => ctx.gateway, `avail-${label}`);
  probe.start();
  await sleep(1000);
  const fault = await kill(ctx, target);
  await until('a write acknowledged after the kill', async () => probe.recoveryAfter(fault.at) !== null, 30_000).catch(() => undefined);
  await sleep(1000);
  await probe.stop();
  await whole(ctx);
  const lost: string[] = [];
  for (const w of probe.acked()) {
    const res = await fetch(`${ctx.gateway}/v1/kv/${w.key}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { value?: unknown };
    if (res.status !== 200 || body.value !== w.value) lost.push(`${w.key}: ${res.status} ${JSON.stringify(body)}`);
  }
  return {
    target,
    what: fault.what,
    recoveryMs: probe.recoveryAfter(fault.at),
    acked: probe.acked().length,
    lost,
    falseReady: probe.falseReady([fault.at], readyGraceMs).length,
  };
}
