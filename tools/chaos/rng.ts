import { seededRng, type Rng as BaseRng } from '@app/consensus/util/rng';

/** The project's seeded generator with helpers: the same seed gives the same workload and fault schedule. */
export class Rng {
  private readonly base: BaseRng;

  constructor(seed: number) {
    this.base = seededRng((seed * 0x9e3779b9) >>> 0 || 0x6d2b79f5);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.base.next();
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  /** One of the keys of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = (Object.entries(weights) as Array<[K, number]>).filter(([, w]) => w > 0);
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1][0];
  }

  /** An independent generator for one consumer (client, nemesis), so adding one does not shift the others. */
  fork(salt: number): Rng {
    return new Rng((Math.floor(this.next() * 0xffffffff) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0);
  }
}
