import type { Rng } from '../../util/rng';

// Read once: under Jest's sandbox every `Math.imul` lookup is slow, and the simulator draws a lot.
const imul = Math.imul;

/** util/rng's mulberry32 (same numbers for the same seed), with Math.imul looked up once. */
export function fastSeededRng(seed: number): Rng {
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
