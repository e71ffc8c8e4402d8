/** Beacons carry the state digest only while computing it is cheap. */
const DIGEST_MAX_KEYS = 20_000;
const DIGEST_EVERY_MS = 1000;

/**
 * The state digest for convergence checks. It is O(state): computed at most every second, and
 * reported only while it matches the applied index (so a quiet cluster always shows it).
 */
export class DigestCache {
  private cached: { index: number; value: string; at: number } | null = null;

  get(appliedIndex: number, state: { size: number; digest(): string } | undefined): string | undefined {
    if (!state || state.size > DIGEST_MAX_KEYS) return undefined;
    const c = this.cached;
    if (c?.index !== appliedIndex && (!c || Date.now() - c.at >= DIGEST_EVERY_MS)) {
      this.cached = { index: appliedIndex, value: state.digest(), at: Date.now() };
    }
    return this.cached?.index === appliedIndex ? this.cached.value : undefined;
  }
}
