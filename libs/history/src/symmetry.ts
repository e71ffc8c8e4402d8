import { ABSENT, OTHER, RegOp, UNKNOWN } from './register';

/**
 * Symmetry reductions that keep the search exact.
 *
 * The register's specification only compares the state with values that are read (a get's
 * result) or expected (a cas), and with absent. Every other value behaves the same, so they
 * all become OTHER: writes nobody observed then lead to one state instead of one each.
 */
export function canonicalize(ops: readonly RegOp[], initial: number): { ops: RegOp[]; initial: number } {
  const observed = new Set<number>([ABSENT, UNKNOWN]);
  for (const op of ops) {
    if (op.kind === 'get') observed.add(op.obs);
    if (op.kind === 'cas') observed.add(op.expected);
  }
  const canon = (v: number) => (observed.has(v) ? v : OTHER);
  return {
    ops: ops.map((op) => ((op.kind === 'put' || op.kind === 'cas') && !observed.has(op.arg) ? { ...op, arg: OTHER } : op)),
    initial: canon(initial),
  };
}

/**
 * Optional ops with the same effect are interchangeable once both are invoked: a
 * linearization using the later one where the earlier is still unused can use the earlier
 * one instead (and the later one wherever the earlier was used). So within each class only
 * the earliest unused op is tried. Returns, for each optional op (in invocation order), the
 * previous op of its class, or -1.
 */
export function classPredecessors(opt: readonly RegOp[]): Int32Array {
  const last = new Map<string, number>();
  const prev = new Int32Array(opt.length);
  opt.forEach((op, j) => {
    const cls = `${op.kind}:${op.arg}:${op.expected}:${op.obs}`;
    prev[j] = last.get(cls) ?? -1;
    last.set(cls, j);
  });
  return prev;
}
