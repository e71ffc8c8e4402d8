import type { HistoryOp } from './types';

/**
 * One key's history seen as a single register. Values are interned to small integers so a
 * register state is a number and a memo key stays cheap.
 */
export const ABSENT = 0;
/**
 * "Some value we do not know": the start state of a window cut out of the middle of a
 * history. It is resolved by the first observation, so it admits every behaviour a concrete
 * start state would (and a few more), which keeps a window's failure a proof.
 */
export const UNKNOWN = -1;
export const ILLEGAL = -2;
/** Any present value nobody ever reads or expects: such values are indistinguishable (see symmetry.ts). */
export const OTHER = -3;

/** Outcome a client observed: a cas succeeded / a delete found the key (1), or not (0), or nobody knows (-1). */
export const YES = 1;
export const NO = 0;
export const UNSEEN = -1;

export type RegKind = 'put' | 'get' | 'delete' | 'cas';

export interface RegOp {
  src: HistoryOp;
  kind: RegKind;
  /** put / cas: value id written. */
  arg: number;
  /** cas: value id expected. */
  expected: number;
  /** get: value id read; cas / delete: YES, NO or UNSEEN. */
  obs: number;
  invoke: number;
  /** Infinity when the op never returned. */
  complete: number;
  /** May have taken effect at any time after invoke, or never; carries no observation. */
  optional: boolean;
}

/** Interns values: null is ABSENT (0), each distinct string gets 1, 2, ... */
export class ValueTable {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  id(value: string | null | undefined): number {
    if (value === null || value === undefined) return ABSENT;
    let id = this.ids.get(value);
    if (id === undefined) {
      this.names.push(value);
      id = this.names.length;
      this.ids.set(value, id);
    }
    return id;
  }

  /** Display form: JSON string, "absent" or "unknown". */
  show(id: number): string {
    if (id === ABSENT) return 'absent';
    if (id === UNKNOWN) return 'unknown';
    if (id === OTHER) return 'a value never read';
    return JSON.stringify(this.names[id - 1]);
  }
}

/**
 * The sequential specification: the register state after applying op to state, or ILLEGAL
 * when the op's observation contradicts state. From UNKNOWN an observation fixes the state;
 * outcomes that depend on the unknown value keep it UNKNOWN.
 */
export function step(state: number, op: RegOp): number {
  switch (op.kind) {
    case 'put':
      return op.arg;
    case 'get':
      return state === op.obs || state === UNKNOWN ? op.obs : ILLEGAL;
    case 'delete':
      if (op.obs === YES && state === ABSENT) return ILLEGAL;
      if (op.obs === NO && state !== ABSENT && state !== UNKNOWN) return ILLEGAL;
      return ABSENT;
    case 'cas':
      if (op.obs === YES) return state === op.expected || state === UNKNOWN ? op.arg : ILLEGAL;
      if (op.obs === NO) return state === op.expected ? ILLEGAL : state;
      if (state === UNKNOWN) return UNKNOWN;
      return state === op.expected ? op.arg : state;
  }
}

/** The same op without its result and its completion: it may have happened, or not. */
export function relax(op: RegOp): RegOp {
  return { ...op, obs: UNSEEN, complete: Infinity, optional: true };
}

/** A relaxed op that can never change the register (a get) is simply absent. */
export function hasEffect(op: RegOp): boolean {
  return op.kind !== 'get';
}
