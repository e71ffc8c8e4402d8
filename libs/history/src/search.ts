import { ILLEGAL, NO, RegOp, step } from './register';
import { ConfigMemo } from './memo';
import { canonicalize, classPredecessors } from './symmetry';

export type Verdict = 'linearizable' | 'violation' | 'unknown';

export interface SearchResult {
  verdict: Verdict;
  /** Distinct configurations memoized. */
  states: number;
  /**
   * On a violation: the completion time of the earliest op that no explored order could
   * linearize. Every cut before it is linearizable, so it is where the failure starts.
   */
  stuckAt: number;
}

/**
 * Wing & Gong's search for a linearization of one register's history, with Lowe's
 * improvements as in porcupine: the history is a doubly linked list of call and return
 * entries; an op may be linearized next only if its call precedes the first remaining
 * return; linearizing lifts both entries out of the list (undone on backtrack), and each
 * (linearized set, register state) configuration is explored once (memo.ts).
 *
 * Optional (indeterminate) ops have no return entry: they stay candidates forever and
 * need not be linearized at all. They live in a list of their own and are tried after the
 * determinate candidates, so the search first tries histories in which they had no effect;
 * one that would not change the register is never tried, and among optional ops with the
 * same effect only the earliest unused one is (symmetry.ts).
 *
 * All reductions are exact: the verdict is the one the plain search would give.
 */
export function searchRegister(history: readonly RegOp[], start: number, maxStates: number): SearchResult {
  const { ops, initial } = canonicalize(history, start);
  const det = ops.filter((o) => !o.optional);
  const opt = ops.filter((o) => o.optional);
  const byInvoke = (a: RegOp, b: RegOp) => a.invoke - b.invoke || a.src.id - b.src.id;
  det.sort(byInvoke);
  opt.sort(byInvoke);
  const nd = det.length;
  const no = opt.length;
  if (nd === 0) return { verdict: 'linearizable', states: 0, stuckAt: Infinity };
  const classPrev = classPredecessors(opt);

  // Event order: by time, calls before returns at the same instant (equal timestamps are
  // concurrent, never ordered), ties among calls by invocation order.
  const CALL = 0;
  const RET = 1;
  const events: Array<[time: number, type: number, idx: number]> = [];
  for (let i = 0; i < nd; i++) events.push([det[i].invoke, CALL, i], [det[i].complete, RET, i]);
  for (let j = 0; j < no; j++) events.push([opt[j].invoke, CALL, nd + j]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);

  // Main list nodes: 0 is the head; det op i has call node 2i+1 and return node 2i+2.
  const next = new Int32Array(2 * nd + 1);
  const prev = new Int32Array(2 * nd + 1);
  const retPosOfNode = new Float64Array(2 * nd + 1);
  const callPos = new Float64Array(nd);
  const retPos = new Float64Array(nd);
  const optPos = new Float64Array(no);
  let last = 0;
  events.forEach(([, type, idx], pos) => {
    if (idx >= nd) {
      optPos[idx - nd] = pos;
      return;
    }
    const node = type === CALL ? 2 * idx + 1 : 2 * idx + 2;
    if (type === CALL) callPos[idx] = pos;
    else retPos[idx] = retPosOfNode[node] = pos;
    next[last] = node;
    prev[node] = last;
    last = node;
  });
  next[last] = -1;

  // Optional list: node j+1 for optional op j, in invocation order; -1 ends it.
  const onext = new Int32Array(no + 1);
  const oprev = new Int32Array(no + 1);
  for (let n = 0; n <= no; n++) {
    onext[n] = n < no ? n + 1 : -1;
    oprev[n] = n - 1;
  }

  // windowEnd[i]: the last det op that can be linearized while op i is not, i.e. the last
  // one invoked before i returned. With i the earliest unlinearized op, every linearized op
  // past i lies in (i, windowEnd[i]], so that bit range identifies the linearized set.
  const windowEnd = new Int32Array(nd);
  for (let i = 0; i < nd; i++) {
    let lo = i;
    let hi = nd - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (callPos[mid] < retPos[i]) lo = mid;
      else hi = mid - 1;
    }
    windowEnd[i] = lo;
  }

  const lin = new Uint32Array((nd >> 5) + 1);
  const used = new Uint32Array((no >> 5) + 1);
  const memo = new ConfigMemo(det, opt, optPos);

  const liftMain = (i: number) => {
    const c = 2 * i + 1;
    const r = c + 1;
    next[prev[c]] = next[c];
    if (next[c] !== -1) prev[next[c]] = prev[c];
    next[prev[r]] = next[r];
    if (next[r] !== -1) prev[next[r]] = prev[r];
  };
  const unliftMain = (i: number) => {
    const c = 2 * i + 1;
    const r = c + 1;
    next[prev[r]] = r;
    if (next[r] !== -1) prev[next[r]] = r;
    next[prev[c]] = c;
    if (next[c] !== -1) prev[next[c]] = c;
  };
  const liftOpt = (n: number) => {
    onext[oprev[n]] = onext[n];
    if (onext[n] !== -1) oprev[onext[n]] = oprev[n];
  };
  const unliftOpt = (n: number) => {
    onext[oprev[n]] = n;
    if (onext[n] !== -1) oprev[onext[n]] = n;
  };

  // Observers (a read, a failed cas, a delete that found nothing) never change the register.
  // One that is a candidate and holds in the current state can be linearized right away:
  // any order that places it later stays valid with it moved here. So such a node has that
  // single child. (From UNKNOWN a read pins the value down, a change, so it is not forced.)
  const observer = Uint8Array.from(det, (op) => (op.kind === 'get' || (op.kind !== 'put' && op.obs === NO) ? 1 : 0));

  const depth = nd + no;
  const stackOp = new Int32Array(depth);
  const stackPrev = new Int32Array(depth);
  const stackFirstRet = new Float64Array(depth);
  const stackForced = new Uint8Array(depth);
  let sp = 0;
  let state = initial;
  let remaining = nd;
  // Cursor over the candidates: MAIN walks the main list up to its first return entry,
  // OPTIONAL then walks the optional ops invoked before that return, DONE has none left.
  const MAIN = 0;
  const OPTIONAL = 1;
  const DONE = 2;
  let phase = MAIN;
  let node = next[0];
  let firstRet = 0;
  let stuckAt = -Infinity;
  let entering = true;

  for (;;) {
    let cand = -1;
    let forced = false;
    if (entering) {
      entering = false;
      let n = next[0];
      for (; n & 1; n = next[n]) {
        const i = (n - 1) >> 1;
        if (cand < 0 && observer[i] && step(state, det[i]) === state) cand = i;
      }
      const op = det[(n - 2) >> 1];
      if (op.complete > stuckAt) stuckAt = op.complete;
      if (cand >= 0) {
        forced = true;
        phase = DONE;
        node = 2 * cand + 1;
      }
    }
    if (cand < 0) {
      if (phase === MAIN) {
        if (node & 1) cand = (node - 1) >> 1;
        else {
          firstRet = retPosOfNode[node];
          phase = OPTIONAL;
          node = onext[0];
          continue;
        }
      } else if (phase === OPTIONAL && node !== -1 && optPos[node - 1] < firstRet) {
        const j = node - 1;
        const p = classPrev[j];
        if (p < 0 || used[p >> 5] & (1 << (p & 31))) cand = nd + j;
        else {
          node = onext[node];
          continue;
        }
      }
    }

    if (cand >= 0) {
      const isDet = cand < nd;
      const op = isDet ? det[cand] : opt[cand - nd];
      const after = step(state, op);
      // An optional op that would not change the register is better left out.
      if (after !== ILLEGAL && !(op.optional && after === state)) {
        if (isDet) {
          lin[cand >> 5] |= 1 << (cand & 31);
          liftMain(cand);
          if (--remaining === 0) return { verdict: 'linearizable', states: memo.size, stuckAt: Infinity };
        } else {
          const j = cand - nd;
          used[j >> 5] |= 1 << (j & 31);
          liftOpt(node);
        }
        const p = (next[0] - 1) >> 1;
        let r = next[0];
        while (r & 1) r = next[r];
        if (memo.visit(p, retPosOfNode[r], after, lin, windowEnd[p], used)) {
          if (memo.size > maxStates) return { verdict: 'unknown', states: memo.size, stuckAt };
          stackOp[sp] = cand;
          stackPrev[sp] = state;
          stackFirstRet[sp] = firstRet;
          stackForced[sp] = forced ? 1 : 0;
          sp++;
          state = after;
          phase = MAIN;
          node = next[0];
          entering = true;
          continue;
        }
        if (isDet) {
          remaining++;
          unliftMain(cand);
          lin[cand >> 5] &= ~(1 << (cand & 31));
        } else {
          const j = cand - nd;
          unliftOpt(node);
          used[j >> 5] &= ~(1 << (j & 31));
        }
      }
      if (phase === MAIN) node = next[node];
      else if (phase === OPTIONAL) node = onext[node];
      continue;
    }

    // No candidate left here: undo the most recent choice and try the one after it.
    if (sp === 0) return { verdict: 'violation', states: memo.size, stuckAt };
    sp--;
    const c = stackOp[sp];
    state = stackPrev[sp];
    if (c < nd) {
      remaining++;
      unliftMain(c);
      lin[c >> 5] &= ~(1 << (c & 31));
      phase = stackForced[sp] ? DONE : MAIN;
      node = next[2 * c + 1];
    } else {
      const j = c - nd;
      unliftOpt(j + 1);
      used[j >> 5] &= ~(1 << (j & 31));
      phase = OPTIONAL;
      firstRet = stackFirstRet[sp];
      node = onext[j + 1];
    }
  }
}
