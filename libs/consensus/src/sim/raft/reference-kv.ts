import type { KvRequest, KvResult } from '../../kv/types';
import { keyCommandOf } from '../history';

/**
 * The oracle the replicas are compared with: the committed log applied in order, each request id
 * taking effect once. Written independently of the KV store so that a double application (or a
 * lost one) shows up as a difference.
 */
export class ReferenceKv {
  private readonly values = new Map<string, string>();
  private readonly firstResult = new Map<string, KvResult>();
  /** Every value a key ever had, by log index, for checking reads served at older revisions. */
  private readonly history = new Map<string, { index: number; value: string | null }[]>();

  /** The result the state machine must return for `req` at `index`. */
  apply(index: number, req: KvRequest): KvResult {
    const first = this.firstResult.get(req.id);
    if (first !== undefined) return first;
    const cmd = keyCommandOf(req.cmd);
    let result: KvResult;
    if (cmd.op === 'put') {
      this.set(index, cmd.key, cmd.value);
      result = { op: 'put', key: cmd.key, value: cmd.value, revision: index };
    } else if (cmd.op === 'delete') {
      const deleted = this.values.has(cmd.key);
      if (deleted) this.set(index, cmd.key, null);
      result = { op: 'delete', key: cmd.key, deleted, revision: index };
    } else {
      const current = this.values.get(cmd.key) ?? null;
      const succeeded = current === cmd.expected;
      if (succeeded) this.set(index, cmd.key, cmd.value);
      result = { op: 'cas', key: cmd.key, succeeded, value: succeeded ? cmd.value : current, revision: index };
    }
    this.firstResult.set(req.id, result);
    return result;
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  keys(): string[] {
    return [...this.history.keys()];
  }

  first(id: string): KvResult | undefined {
    return this.firstResult.get(id);
  }

  /** The key's value once entries up to `revision` were applied. */
  valueAt(key: string, revision: number): string | null {
    const h = this.history.get(key);
    if (h === undefined) return null;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (h[mid].index <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : h[lo - 1].value;
  }

  private set(index: number, key: string, value: string | null): void {
    if (value === null) this.values.delete(key);
    else this.values.set(key, value);
    let h = this.history.get(key);
    if (h === undefined) this.history.set(key, (h = []));
    h.push({ index, value });
  }
}
