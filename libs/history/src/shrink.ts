import { RegOp, UNKNOWN } from './register';
import { searchRegister } from './search';
import { cutAt, forgetUntil, weakenOne } from './window';

export interface FailingWindow {
  ops: RegOp[];
  /** Register state the window starts from (UNKNOWN once an earlier part was forgotten). */
  initial: number;
  /** The determinate op whose completion made the history non-linearizable. */
  culprit: RegOp;
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
 */
export function smallestWindow(ops: readonly RegOp[], initial: number, budget: ShrinkBudget): FailingWindow {
  let left = budget.totalStates;
  // A trial that runs out of budget counts as "does not fail": the window stays larger.
  const fails = (w: readonly RegOp[], init: number) => {
    if (left <= 0) return false;
    const { verdict, states } = searchRegister(w, init, Math.min(budget.maxStates, left));
    left -= states;
    return verdict === 'violation';
  };

  const ends = distinct(ops.filter((o) => !o.optional && o.complete !== Infinity).map((o) => o.complete));
  // Smallest t whose cut fails; failure is monotone in t.
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(cutAt(ops, ends[mid]), initial)) hi = mid;
    else lo = mid + 1;
  }
  let window: RegOp[] = lo < ends.length ? cutAt(ops, ends[lo]) : [...ops];
  const t = lo < ends.length ? ends[lo] : Infinity;
  const culprit = pickCulprit(window, t);

  // Largest s that can be forgotten; forgetting more only weakens, so this is monotone too.
  const starts = distinct(window.filter((o) => !o.optional && o.complete < t).map((o) => o.complete));
  lo = -1;
  hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fails(forgetUntil(window, starts[mid]), UNKNOWN)) lo = mid;
    else hi = mid - 1;
  }
  let start = initial;
  if (lo >= 0) {
    window = forgetUntil(window, starts[lo]);
    start = UNKNOWN;
  }

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
  return { ops: window, initial: start, culprit: finalCulprit };
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
