/**
 * A steady trickle of writes and readiness checks against the gateway, recorded with timestamps,
 * so that a fault's cost can be read off afterwards: the time from the fault to the next
 * acknowledged write, which acknowledged writes exist (to read them all back), and what
 * `/health/ready` claimed meanwhile.
 */
export interface WriteSample {
  key: string;
  value: string;
  start: number;
  end: number;
  ok: boolean;
}

export interface ReadySample {
  at: number;
  ready: boolean;
}

const WRITE_EVERY_MS = 50;
const READY_EVERY_MS = 100;
const WRITE_TIMEOUT_MS = 3000;

export class AvailabilityProbe {
  readonly writes: WriteSample[] = [];
  readonly ready: ReadySample[] = [];
  private timers: NodeJS.Timeout[] = [];
  private inFlight = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly base: () => string,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.timers.push(setInterval(() => this.track(this.write()), WRITE_EVERY_MS));
    this.timers.push(setInterval(() => this.track(this.checkReady()), READY_EVERY_MS));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all([...this.inFlight]);
  }

  /** ms from `t` to the first acknowledged write that was sent at or after `t`; null if none. */
  recoveryAfter(t: number): number | null {
    const acks = this.writes.filter((w) => w.ok && w.start >= t).map((w) => w.end);
    return acks.length === 0 ? null : Math.min(...acks) - t;
  }

  acked(): WriteSample[] {
    return this.writes.filter((w) => w.ok);
  }

  /**
   * Readiness claims contradicted by a write sent at about the same time: ready said yes while a
   * write failed, outside the grace period after a fault (the gateway learns of a death by a
   * missing beacon, so a claim can be that old).
   */
  falseReady(faults: number[], graceMs: number): WriteSample[] {
    // The claim in force at `t` is the check *sent* last before `t`, not the one that finished
    // last: under load checks finish out of order, and a slow stale "ready" must not win.
    const claimedReady = (t: number): boolean => {
      let latest: ReadySample | undefined;
      for (const r of this.ready) if (r.at <= t && (latest === undefined || r.at > latest.at)) latest = r;
      return latest?.ready ?? false;
    };
    return this.writes.filter((w) => !w.ok && claimedReady(w.start) && !faults.some((f) => w.start >= f - 200 && w.start <= f + graceMs));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async write(): Promise<void> {
    const key = `${this.prefix}-${++this.seq}`;
    const value = String(this.seq);
    const sample: WriteSample = { key, value, start: Date.now(), end: 0, ok: false };
    this.writes.push(sample);
    try {
      const res = await fetch(`${this.base()}/v1/kv/${key}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ value }),
        signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
      });
      sample.ok = res.status === 200;
      await res.arrayBuffer();
    } catch {
      sample.ok = false;
    }
    sample.end = Date.now();
  }

  private async checkReady(): Promise<void> {
    const at = Date.now();
    let ready: boolean;
    try {
      const res = await fetch(`${this.base()}/health/ready`, { signal: AbortSignal.timeout(1000) });
      ready = res.status === 200;
      await res.arrayBuffer();
    } catch {
      ready = false;
    }
    this.ready.push({ at, ready });
  }
}
