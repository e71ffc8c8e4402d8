import type { SynodClient } from '../client';
import { op, type Compare, type TxnOp, type TxnResult } from '../txn';

export interface OnceOptions {
  /** The marker's prefix (default `processed/`): the marker of message M is `<prefix><M>`. */
  prefix?: string;
  /** More conditions for the transaction (e.g. a counter's modRevision for a read-modify-write). */
  compare?: Compare[];
  signal?: AbortSignal;
}

export interface OnceResult {
  /**
   * True when this call applied the ops. False when the marker was there (the message's effects were
   * applied before) or a `compare` failed: see `processed`.
   */
  applied: boolean;
  /** Whether the marker exists now: the effects of this message are in the store. */
  processed: boolean;
  revision: number;
  txn: TxnResult;
}

/**
 * Exactly-once effects for a handler whose effects are Synod writes: `ops` and the marker
 * `processed/<messageId>` are written as ONE transaction, only if the marker is absent. A message
 * delivered twice (at-least-once: a crash before the ack, a visibility timeout) runs its handler
 * twice, but its writes happen once. Pass `ctx.getId()` (the message id `<topic>/<offset>`).
 *
 * Only Synod writes get this: an external effect of the handler (an e-mail, a call to another
 * service) is at-least-once — make it idempotent there (e.g. with the message id as its key).
 *
 * With `compare`, the transaction also requires those conditions: a failed one gives
 * `{ applied: false, processed: false }`, and the caller reads again and retries (a CAS loop).
 */
export async function once(client: Pick<SynodClient, 'txn'>, messageId: string, ops: TxnOp[], opts: OnceOptions = {}): Promise<OnceResult> {
  const marker = `${opts.prefix ?? 'processed/'}${messageId}`;
  let b = client.txn().if(marker, 'version', '=', 0);
  // The overloads only tie `target` to the type of `value`; a Compare is already one of them.
  for (const c of opts.compare ?? []) b = b.if(c.key, c.target as 'value', c.op, c.value);
  const txn = await b
    .then(...ops, op.put(marker, '1'))
    .else(op.get(marker))
    .commit({ signal: opts.signal });
  if (txn.succeeded) return { applied: true, processed: true, revision: txn.revision, txn };
  const got = txn.results[0];
  const processed = got !== undefined && got.op === 'get' && got.item !== null;
  return { applied: false, processed, revision: txn.revision, txn };
}

/**
 * `once` for a counter: adds `by` to the number at `key` (absent: 0) with the marker of
 * `messageId`, retrying on a concurrent change of the counter. Returns whether this call applied it.
 */
export async function incrementOnce(
  client: Pick<SynodClient, 'txn' | 'get'>,
  messageId: string,
  key: string,
  by = 1,
  opts: Omit<OnceOptions, 'compare'> = {},
): Promise<boolean> {
  for (;;) {
    const cur = await client.get<number>(key, { signal: opts.signal });
    const compare: Compare = { key, target: 'modRevision', op: '=', value: cur?.modRevision ?? 0 };
    const r = await once(client, messageId, [op.put(key, (cur?.value ?? 0) + by)], { ...opts, compare: [compare] });
    if (r.applied) return true;
    if (r.processed) return false;
  }
}

export { op };
