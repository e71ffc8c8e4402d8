import { hasEffect, NO, relax, RegOp } from './register';

/**
 * Windows of a history that are *weaker* than it: every linearization of the history
 * yields one of the window, so a window that cannot be linearized proves the whole history
 * cannot. Weakening = forgetting ops' results (relax), dropping pure observations, and
 * starting from an UNKNOWN register.
 */

/**
 * The history as known at time t: ops invoked after t are gone, ops still running at t are
 * indeterminate. Any linearization's prefix up to the last op completed by t only holds ops
 * invoked by t, so this is weaker than the full history; and the later t, the stronger.
 */
export function cutAt(ops: readonly RegOp[], t: number): RegOp[] {
  const out: RegOp[] = [];
  for (const op of ops) {
    if (op.invoke > t) continue;
    if (!op.optional && op.complete <= t) out.push(op);
    else if (hasEffect(op)) out.push(op.optional ? op : relax(op));
  }
  return out;
}

/**
 * Forgets the history up to time s: ops completed by s are dropped, ops invoked by s become
 * indeterminate, and the register starts UNKNOWN. Whatever a linearization put before the
 * last dropped op was invoked by s, so leaving those ops out is allowed once they are
 * indeterminate; the state there is some value, which UNKNOWN admits.
 */
export function forgetUntil(ops: readonly RegOp[], s: number): RegOp[] {
  const out: RegOp[] = [];
  for (const op of ops) {
    if (!op.optional && op.complete <= s) continue;
    if (op.invoke > s || op.optional) out.push(op);
    else if (hasEffect(op)) out.push(relax(op));
  }
  return out;
}

/**
 * Drops or relaxes one determinate op: a get or a failed cas only observed the register, so it
 * goes; a write stays as a may-have-happened write.
 */
export function weakenOne(ops: readonly RegOp[], target: RegOp): RegOp[] {
  const observesOnly = target.kind === 'get' || (target.kind === 'cas' && target.obs === NO);
  const out: RegOp[] = [];
  for (const op of ops) {
    if (op !== target) out.push(op);
    else if (!observesOnly) out.push(relax(op));
  }
  return out;
}
