import { ABSENT, NO, RegOp, UNKNOWN, ValueTable, YES } from './register';
import { searchRegister } from './search';
import type { FailingWindow } from './shrink';
import type { HistoryOp } from './types';

/** One line saying which op cannot be linearized in the window and, for a read, what it could have read. */
export function explain(key: string, window: FailingWindow, values: ValueTable, maxStates: number): string {
  const { ops, initial, culprit } = window;
  const shown = shownOps(window).length;
  const hidden = ops.length - shown;
  const start = initial === UNKNOWN ? 'an unknown value' : values.show(initial);
  const context =
    `(window of ${shown} op${shown === 1 ? '' : 's'}` +
    `, register starting at ${start}` +
    (hidden ? `; ${hidden} other write${hidden === 1 ? '' : 's'} in it cannot help, whether or when ${hidden === 1 ? 'it' : 'they'} took effect` : '') +
    ')';
  const head = `key ${JSON.stringify(key)}: ${describe(culprit.src)}`;

  if (culprit.kind === 'get') {
    const possible = readable(window, values, maxStates);
    const listed = possible.length > MAX_LISTED ? [...possible.slice(0, MAX_LISTED), `${possible.length - MAX_LISTED} more`] : possible;
    const could =
      possible.length === 0
        ? 'no read there can be linearized'
        : possible.length === 1
          ? `a read there can only return ${possible[0]}`
          : `a read there can only return one of ${listed.join(', ')}`;
    return `${head} cannot be linearized: ${could} ${context}`;
  }
  if (culprit.kind === 'cas' && culprit.obs === YES) {
    return `${head} cannot be linearized: the register cannot hold ${values.show(culprit.expected)} at any point it may take effect ${context}`;
  }
  if (culprit.kind === 'cas' && culprit.obs === NO) {
    return `${head} cannot be linearized: the register must hold ${values.show(culprit.expected)} wherever it may take effect ${context}`;
  }
  if (culprit.kind === 'delete' && culprit.obs === YES) {
    return `${head} cannot be linearized: the key cannot exist at any point it may take effect ${context}`;
  }
  if (culprit.kind === 'delete' && culprit.obs === NO) {
    return `${head} cannot be linearized: the key must exist wherever it may take effect ${context}`;
  }
  return `${head} cannot be linearized with the other ops ${context}`;
}

const MAX_LISTED = 6;
/** Values tried when listing what a read could have returned, and the budget of each try. */
const MAX_TRIED = 32;
const TRY_STATES = 100_000;

/**
 * The ops worth showing: the determinate ones, and indeterminate ones only where a
 * determinate op observes what they write (their value, or absent for a delete). The
 * others are still part of the failing window; they just cannot explain anything.
 */
export function shownOps(window: FailingWindow): RegOp[] {
  const seen = new Set<number>();
  for (const op of window.ops) {
    if (op.optional) continue;
    if (op.kind === 'get') seen.add(op.obs);
    if (op.kind === 'cas') seen.add(op.expected);
    if (op.kind === 'delete' && op.obs === NO) seen.add(ABSENT);
  }
  return window.ops.filter((op) => !op.optional || seen.has(op.kind === 'delete' ? ABSENT : op.arg)).sort((a, b) => a.invoke - b.invoke || a.src.id - b.src.id);
}

/** Values the culprit read could have returned, found by trying each value the window mentions. */
function readable(window: FailingWindow, values: ValueTable, maxStates: number): string[] {
  const { culprit } = window;
  const { ops, initial } = window.context.ops.includes(culprit) ? window.context : window;
  const mentioned = new Set<number>([ABSENT]);
  if (initial !== UNKNOWN) mentioned.add(initial);
  for (const op of ops) if (op.kind === 'put' || op.kind === 'cas') mentioned.add(op.arg);
  mentioned.delete(culprit.obs);
  const out: string[] = [];
  for (const v of [...mentioned].slice(0, MAX_TRIED)) {
    const tried: RegOp = { ...culprit, obs: v };
    const variant = ops.map((o) => (o === culprit ? tried : o));
    if (searchRegister(variant, initial, Math.min(maxStates, TRY_STATES)).verdict === 'linearizable') out.push(values.show(v));
  }
  return out;
}

/** e.g. `get #12 by client 3 [40..55] read "a"`. */
export function describe(op: HistoryOp): string {
  const show = (v: string | null | undefined) => (v === null || v === undefined ? 'absent' : JSON.stringify(v));
  const when = `[${op.invoke}..${op.complete ?? '?'}]`;
  const who = `${op.kind} #${op.id} by client ${op.client} ${when}`;
  if (op.status !== 'ok') {
    const what = op.kind === 'put' ? ` ${show(op.value)}` : op.kind === 'cas' ? ` ${show(op.expected)}→${show(op.value)}` : '';
    return `${who}${what} (${op.status})`;
  }
  switch (op.kind) {
    case 'put':
      return `${who} wrote ${show(op.value)}`;
    case 'get':
      return `${who} read ${show(op.result?.value)}`;
    case 'delete':
      return `${who} ${op.result?.deleted === false ? 'found nothing to delete' : 'deleted'}`;
    case 'cas': {
      const outcome = op.result?.succeeded === undefined ? '' : op.result.succeeded ? ' succeeded' : ' failed';
      return `${who} ${show(op.expected)}→${show(op.value)}${outcome}`;
    }
  }
}
