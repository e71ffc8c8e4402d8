/** Latencies kept per sampling period at most: past it, every other one replaces an earlier one at random (a reservoir). */
const RESERVOIR = 4096;

/**
 * The fault lab's latency chart: this gateway process's client requests since the last sample,
 * their count and p50/p99. Exact below RESERVOIR requests per period, sampled above it.
 */
export class RecentRequests {
  private count = 0;
  private readonly ms: number[] = [];

  add(ms: number): void {
    this.count++;
    if (this.ms.length < RESERVOIR) this.ms.push(ms);
    else {
      const i = Math.floor(Math.random() * this.count);
      if (i < RESERVOIR) this.ms[i] = ms;
    }
  }

  /** The period's figures; starts the next period. */
  take(): { count: number; p50Ms: number | null; p99Ms: number | null } {
    const sorted = this.ms.sort((a, b) => a - b);
    const at = (q: number): number | null =>
      sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 100) / 100;
    const figures = { count: this.count, p50Ms: at(0.5), p99Ms: at(0.99) };
    this.count = 0;
    this.ms.length = 0;
    return figures;
  }
}
