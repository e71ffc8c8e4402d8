/** Seeded pseudo-random generator (mulberry32): the only source of randomness in the cores and the simulator. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
}

// Read once: under Jest's sandbox every `Math.imul` lookup is slow, and the simulators draw a lot.
const imul = Math.imul;

export function seededRng(seed: number): Rng {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** An independent stream `k` of one seed, so that e.g. a change in clients does not reshuffle faults. */
export function streamRng(seed: number, k: number): Rng {
  return seededRng((imul(seed, 0x9e3779b1) ^ imul(k + 1, 0x85ebca77)) >>> 0);
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length - 1)];
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const ys = [...xs];
  for (let i = ys.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [ys[i], ys[j]] = [ys[j], ys[i]];
  }
  return ys;
}
