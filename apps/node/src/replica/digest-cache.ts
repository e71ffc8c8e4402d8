/** Beacons carry the state digest only while computing it is cheap: keys and topic messages together. */
const DIGEST_MAX_ITEMS = 20_000;
const DIGEST_EVERY_MS = 1000;

/**
 * The state digest for convergence checks. It is O(state): computed at most every second, and
 * reported only while it matches the applied index (so a quiet cluster always shows it).
 */
export class DigestCache {
  private cached: { index: number; value: string; at: number } | null = null;

  get(appliedIndex: number, state: { size: number; topicMessageCount: number; digest(): string } | undefined): string | undefined {
    if (!state || state.size + state.topicMessageCount > DIGEST_MAX_ITEMS) return undefined;
    const c = this.cached;
    if (c?.index !== appliedIndex && (!c || Date.now() - c.at >= DIGEST_EVERY_MS)) {
      this.cached = { index: appliedIndex, value: state.digest(), at: Date.now() };
    }
    return this.cached?.index === appliedIndex ? this.cached.value : undefined;
  }
}
