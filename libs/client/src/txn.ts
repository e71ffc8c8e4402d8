import type { Item, JsonValue, WriteOptions } from './client';

/** What a comparison of POST /v1/txn reads of a key (a missing key: value null, the others 0). */
export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision';
export type CompareOp = '=' | '!=' | '<' | '>';

export interface Compare {
  key: string;
  target: CompareTarget;
  op: CompareOp;
  /** A JSON value or null (absent) for `value`, a number (0: absent) for the others. */
  value: JsonValue | null;
}

export type TxnOp =
  | { op: 'put'; key: string; value: JsonValue; lease?: string }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'range'; prefix: string; limit?: number };

/** The body of POST /v1/txn: if every comparison holds, `success` runs, else `failure`. */
export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure: TxnOp[];
}

export type TxnOpResult =
  | { op: 'put'; key: string; revision: number }
  | { op: 'delete'; key: string; deleted: boolean; revision: number }
  | { op: 'get'; key: string; item: Item<JsonValue> | null }
  | { op: 'range'; prefix: string; items: Item<JsonValue>[] };

export interface TxnResult {
  /** Whether the comparisons held (so `success` ran; else `failure`). */
  succeeded: boolean;
  /** results[i] is the answer to op i of the branch that ran. */
  results: TxnOpResult[];
  revision: number;
}

/**
 * The ops of a transaction's branches: `.then(op.put('a', '1'), op.delete('b'))`; `op.put(k, v, { lease })`
 * attaches the key to a lease (a transaction naming a missing lease is a SynodError 404: nothing applied).
 */
export const op = {
  put: (key: string, value: JsonValue, opts: { lease?: string } = {}): TxnOp =>
    opts.lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease: opts.lease },
  delete: (key: string): TxnOp => ({ op: 'delete', key }),
  get: (key: string): TxnOp => ({ op: 'get', key }),
  range: (prefix: string, limit?: number): TxnOp => (limit === undefined ? { op: 'range', prefix } : { op: 'range', prefix, limit }),
};

/**
 * `client.txn().if(key, target, op, value)….then(...ops).else(...ops).commit()`: builds the body
 * of POST /v1/txn; calls add to what was there. The builder is not a promise: `.then` takes ops,
 * and it throws when given functions, so a forgotten `.commit()` (an `await` of the builder, or
 * an async function returning it) fails at once instead of hanging.
 */
export class TxnBuilder {
  private readonly body: TxnRequest = { compare: [], success: [], failure: [] };

  constructor(private readonly send: (body: TxnRequest, opts: WriteOptions) => Promise<TxnResult>) {}

  if(key: string, target: 'value', op: CompareOp, value: JsonValue | null): this;
  if(key: string, target: 'version' | 'createRevision' | 'modRevision', op: CompareOp, value: number): this;
  if(key: string, target: CompareTarget, op: CompareOp, value: JsonValue | null): this {
    this.body.compare.push({ key, target, op, value });
    return this;
  }

  then(...ops: TxnOp[]): this {
    this.body.success.push(...checked(ops, 'then'));
    return this;
  }

  else(...ops: TxnOp[]): this {
    this.body.failure.push(...checked(ops, 'else'));
    return this;
  }

  /** The body as it would be sent. */
  toJSON(): TxnRequest {
    return { compare: [...this.body.compare], success: [...this.body.success], failure: [...this.body.failure] };
  }

  commit(opts: WriteOptions = {}): Promise<TxnResult> {
    return this.send(this.toJSON(), opts);
  }
}

function checked(ops: unknown[], branch: string): TxnOp[] {
  for (const o of ops) {
    if (typeof o === 'function') throw new TypeError(`TxnBuilder.${branch}() takes ops, not callbacks: call .commit() to run the transaction`);
    if (typeof o !== 'object' || o === null || typeof (o as TxnOp).op !== 'string') throw new TypeError(`TxnBuilder.${branch}(): ${String(o)} is not a txn op`);
  }
  return ops as TxnOp[];
}
