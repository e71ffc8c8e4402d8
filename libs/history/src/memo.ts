import { ABSENT, NO, OTHER, RegOp, UNKNOWN, UNSEEN, YES } from './register';

/**
 * The configurations the search has explored, keyed by (earliest unlinearized op p, the
 * linearized set around it, register state), each with the antichain of optional-op sets
 * used to get there. A configuration is new unless one with the same key and a subset of
 * its optional ops was seen: using fewer optional ops leaves strictly more options.
 *
 * Exact reductions keep the antichains short:
 * - dead values: once every determinate op that reads or expects v is linearized (certain
 *   for ops before p), nothing in the future can tell v from OTHER, so the state is stored
 *   as OTHER;
 * - interchangeable writes: optional puts of dead values (or of OTHER) all have one effect,
 *   and so do all optional deletes; members already invoked are interchangeable, so only
 *   how many are still available matters;
 * - saturation: an extra such write only helps if some later op needs the state it makes
 *   (a present value for a failed or unresolved cas or a successful delete; absent for a
 *   read of absent, a delete that found nothing or a cas). A linearization using more is
 *   still valid without the useless ones, so availability is capped at that demand.
 */
export class ConfigMemo {
  size = 0;
  private readonly table = new Map<string, Uint32Array[]>();
  private readonly spentMasks = new Map<number, Uint32Array>();
  /** Per value id: the smallest p from which it is dead. */
  private readonly valueDeadFrom = new Map<number, number>();
  /** Per optional op: the smallest p from which it is a write of a dead value. */
  private readonly writeDeadFrom: Float64Array;
  private readonly deleteMask: Uint32Array;
  /** needSpent[p] / needDelete[p]: later ops that can use the state such a write makes. */
  private readonly needSpent: Int32Array;
  private readonly needDelete: Int32Array;
  private readonly words: number;

  constructor(
    det: readonly RegOp[],
    private readonly opt: readonly RegOp[],
    private readonly optPos: Float64Array,
  ) {
    det.forEach((op, i) => {
      if (op.kind === 'get') this.valueDeadFrom.set(op.obs, i + 1);
      if (op.kind === 'cas') this.valueDeadFrom.set(op.expected, i + 1);
    });
    // An unused optional cas may still compare with its expected value at any time.
    for (const op of opt) if (op.kind === 'cas') this.valueDeadFrom.set(op.expected, Infinity);
    this.valueDeadFrom.set(ABSENT, Infinity);
    this.valueDeadFrom.set(UNKNOWN, Infinity);
    this.valueDeadFrom.set(OTHER, 0);
    this.writeDeadFrom = Float64Array.from(opt, (op) => (op.kind === 'put' ? this.deadFrom(op.arg) : Infinity));

    this.words = (opt.length >> 5) + 1;
    this.deleteMask = new Uint32Array(this.words);
    opt.forEach((op, j) => {
      if (op.kind === 'delete') this.deleteMask[j >> 5] |= 1 << (j & 31);
    });

    const casOpen = (op: RegOp) => op.kind === 'cas' && (op.obs === NO || op.obs === UNSEEN);
    const usesPresent = (op: RegOp) => casOpen(op) || (op.kind === 'delete' && op.obs === YES);
    const usesAbsent = (op: RegOp) =>
      (op.kind === 'get' && op.obs === ABSENT) || (op.kind === 'delete' && op.obs === NO) || casOpen(op) || (op.kind === 'cas' && op.expected === ABSENT);
    const optionalCasOnAbsent = opt.filter((op) => op.kind === 'cas' && op.expected === ABSENT).length;
    this.needSpent = new Int32Array(det.length + 1);
    this.needDelete = new Int32Array(det.length + 1);
    this.needDelete[det.length] = optionalCasOnAbsent;
    for (let i = det.length - 1; i >= 0; i--) {
      this.needSpent[i] = this.needSpent[i + 1] + (usesPresent(det[i]) ? 1 : 0);
      this.needDelete[i] = this.needDelete[i + 1] + (usesAbsent(det[i]) ? 1 : 0);
    }
  }

  /**
   * Records the configuration; false if it, or one that dominates it, was already explored.
   * firstRet: event position of the first remaining return (optional ops invoked before it
   * are available).
   */
  visit(p: number, firstRet: number, state: number, lin: Uint32Array, linEnd: number, used: Uint32Array): boolean {
    const canonical = this.deadFrom(state) <= p ? OTHER : state;
    let key = p + ':' + canonical;
    for (let w = p >> 5, end = linEnd >> 5; w <= end; w++) key += ',' + lin[w];

    const spentMask = this.spentMask(p);
    const invoked = this.invokedBefore(firstRet);
    let spentFree = 0;
    let deleteFree = 0;
    let others = 0;
    for (let w = 0; w < this.words; w++) {
      const avail = w < invoked >> 5 ? 0xffffffff : w === invoked >> 5 && invoked & 31 ? 0xffffffff >>> (32 - (invoked & 31)) : 0;
      const free = avail & ~used[w];
      spentFree += popcount(free & spentMask[w]);
      deleteFree += popcount(free & this.deleteMask[w]);
      others += popcount(used[w] & ~spentMask[w] & ~this.deleteMask[w]);
    }
    spentFree = Math.min(spentFree, this.needSpent[p]);
    deleteFree = Math.min(deleteFree, this.needDelete[p]);

    // Entry layout: [spent writes free, deletes free, other optional ops used, ...their bits].
    const seen = this.table.get(key);
    if (seen) {
      for (const e of seen) {
        if (e[0] < spentFree || e[1] < deleteFree || e[2] > others) continue;
        let subset = true;
        for (let w = 0; w < this.words && subset; w++) subset = (e[w + 3] & ~used[w]) === 0;
        if (subset) return false;
      }
    }
    const entry = new Uint32Array(this.words + 3);
    entry[0] = spentFree;
    entry[1] = deleteFree;
    entry[2] = others;
    for (let w = 0; w < this.words; w++) entry[w + 3] = used[w] & ~spentMask[w] & ~this.deleteMask[w];
    if (seen) seen.push(entry);
    else this.table.set(key, [entry]);
    this.size++;
    return true;
  }

  private deadFrom(value: number): number {
    return this.valueDeadFrom.get(value) ?? 0;
  }

  /** How many optional ops (in invocation order) were invoked before event position pos. */
  private invokedBefore(pos: number): number {
    let lo = 0;
    let hi = this.optPos.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.optPos[mid] < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private spentMask(p: number): Uint32Array {
    let mask = this.spentMasks.get(p);
    if (!mask) {
      mask = new Uint32Array(this.words);
      for (let j = 0; j < this.opt.length; j++) if (this.writeDeadFrom[j] <= p) mask[j >> 5] |= 1 << (j & 31);
      this.spentMasks.set(p, mask);
    }
    return mask;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
