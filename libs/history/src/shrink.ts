import { RegOp, UNKNOWN } from './register';
import { searchRegister } from './search';
import { cutAt, forgetUntil, weakenOne } from './window';

export interface FailingWindow {
  ops: RegOp[];
  /** Register state the window starts from (UNKNOWN once an earlier part was forgotten). */
  initial: number;
  /** The determinate op whose completion made the history non-linearizable. */
  culprit: RegOp;
  /** The window before greedy weakening: closer to the real history, for explanations. */
  context: { ops: RegOp[]; initial: number };
}

export interface ShrinkBudget {
  /** Search budget of each trial. */
  maxStates: number;
  /** Search budget of all trials together; shrinking stops early when it runs out. */
  totalStates: number;
  /** Most greedy weakening trials. */
  maxTrials: number;
}

/**
 * Shrinks a failing key history to a small window that still fails on its own. Every step
 * only weakens the history (see window.ts), so the window is itself a proof of the
 * violation: the earliest cut that fails, then the most of its past that can be forgotten,
 * then greedily drop observations and forget results while it still fails.
 *
 * stuckAt is the failed search's hint (SearchResult.stuckAt): every earlier cut is
 * linearizable, so when the cut there fails it is the earliest one.
 */
export function smallestWindow(ops: readonly RegOp[], initial: number, stuckAt: number, budget: ShrinkBudget): FailingWindow {
  let left = budget.totalStates;
  // A trial that runs out of budget counts as "does not fail": the window stays larger.
  const fails = (w: readonly RegOp[], init: number) => {
    if (left <= 0) return false;
    const { verdict, states } = searchRegister(w, init, Math.min(budget.maxStates, left));
    left -= states;
    return verdict === 'violation';
  };

  // The earliest cut that fails (failure is monotone in the cut time).
  const ends = distinct(ops.filter((o) => !o.optional && o.complete !== Infinity).map((o) => o.complete));
  const cutFails = (i: number) => i === ends.length || fails(cutAt(ops, ends[i]), initial);
  const hint = ends.indexOf(stuckAt);
  const first = hint >= 0 && cutFails(hint) ? hint : lowestTrue(hint + 1, ends.length, cutFails);
  const t = first < ends.length ? ends[first] : Infinity;
  let window: RegOp[] = first < ends.length ? cutAt(ops, t) : [...ops];
  const culprit = pickCulprit(window, t);

  // The most of its past that can be forgotten (forgetting more only weakens). Probing
  // from the small windows backwards keeps the trials cheap.
  const starts = distinct(window.filter((o) => !o.optional && o.complete < t).map((o) => o.complete));
  const cut = window;
  const forgetFails = (k: number) => k < 0 || fails(forgetUntil(cut, starts[k]), UNKNOWN);
  const k = highestTrue(starts.length, forgetFails);
  let start = initial;
  if (k >= 0) {
    window = forgetUntil(cut, starts[k]);
    start = UNKNOWN;
  }

  const context = { ops: window, initial: start };
  // Greedy: oldest ops first, the culprit last, so the window keeps the op that broke it.
  const candidates = window.filter((o) => !o.optional && o !== culprit);
  if (window.includes(culprit)) candidates.push(culprit);
  let trials = 0;
  for (const op of candidates) {
    if (trials++ >= budget.maxTrials) break;
    const weaker = weakenOne(window, op);
    if (fails(weaker, start)) window = weaker;
  }
  const finalCulprit = window.includes(culprit) ? culprit : pickCulprit(window, Infinity);
  return { ops: window, initial: start, culprit: finalCulprit, context };
}

/** Smallest i in [lo, hi] with pred(i), for pred monotone false→true and pred(hi) true. */
function lowestTrue(lo: number, hi: number, pred: (i: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

/**
 * Largest k in [-1, n) with pred(k), for pred monotone true→false and pred(-1) true:
 * gallops down from n-1 (cheap probes first), then bisects.
 */
function highestTrue(n: number, pred: (k: number) => boolean): number {
  let good = n;
  let step = 1;
  let k = n - 1;
  while (k >= 0 && !pred(k)) {
    good = k;
    k = n - 1 - step;
    step *= 2;
  }
  let bad = Math.max(k, -1);
  while (good - bad > 1) {
    const mid = (good + bad) >> 1;
    if (pred(mid)) bad = mid;
    else good = mid;
  }
  return bad;
}

/** The determinate op completing at t (a read if several), else the last one to complete. */
function pickCulprit(ops: readonly RegOp[], t: number): RegOp {
  let best: RegOp | undefined;
  for (const op of ops) {
    if (op.optional || op.complete > t) continue;
    if (!best || op.complete > best.complete || (op.complete === best.complete && op.kind === 'get')) best = op;
  }
  return best ?? ops[ops.length - 1];
}

function distinct(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}
