/** Beacons carry the state digest only while computing it is cheap: keys and topic messages together. */
const DIGEST_MAX_ITEMS = 20_000;
/** The applied index must have stood still this long before the digest is computed. */
const QUIET_MS = 300;

/**
 * The state digest for convergence checks (the chaos tool compares replicas once the load stops).
 * It is O(state), so it is computed only once the applied index has stood still for QUIET_MS, once
 * per index: under load a digest would be out of date before the next beacon and was never
 * reported, yet computing it every second cost a replica ~8 % of its CPU (issue 11's profile).
 */
export class DigestCache {
  private cached: { index: number; value: string } | null = null;
  private seen: { index: number; since: number } | null = null;

  get(appliedIndex: number, state: { size: number; topicMessageCount: number; digest(): string } | undefined, now = Date.now()): string | undefined {
    if (!state || state.size + state.topicMessageCount > DIGEST_MAX_ITEMS) return undefined;
    if (this.cached?.index === appliedIndex) return this.cached.value;
    if (this.seen?.index !== appliedIndex) {
      this.seen = { index: appliedIndex, since: now };
      return undefined;
    }
    if (now - this.seen.since < QUIET_MS) return undefined;
    this.cached = { index: appliedIndex, value: state.digest() };
    return this.cached.value;
  }
}
