/** The operations a KV client can record; list (prefix) reads are not checked. */
export type OpKind = 'put' | 'get' | 'delete' | 'cas';

/** One client operation as recorded by a history-collecting client (Jepsen style). */
export interface HistoryOp {
  /** Unique within the history. */
  id: number;
  /** The process/client that issued it; a client has at most one op in flight. */
  client: number;
  kind: OpKind;
  key: string;
  /** put: value written; cas: new value. */
  value?: string | null;
  /** cas: expected value (null = key absent). */
  expected?: string | null;
  /** Invocation time (ms, any monotonic clock). */
  invoke: number;
  /** Completion time; null when indeterminate (never returned). */
  complete: number | null;
  /**
   * ok = definite success; fail = definitely did NOT take effect (503 before sending, 400);
   * info = indeterminate (504, dropped connection): may take effect at any time after invoke, or never.
   */
  status: 'ok' | 'fail' | 'info';
  /** For ok ops: get's value (null = absent), cas's succeeded, delete's deleted. */
  result?: { value?: string | null; succeeded?: boolean; deleted?: boolean };
}

export interface Violation {
  key: string;
  /** The ops of the smallest failing window found, by invocation time. */
  ops: HistoryOp[];
  /** One line: which op cannot be linearized and why. */
  explanation: string;
}

export interface CheckResult {
  linearizable: boolean;
  /** Distinct keys checked. */
  keys: number;
  /** Ops checked (every op except 'fail' ones). */
  ops: number;
  /** For each non-linearizable key: the key, the ops of the smallest failing window found, and a one-line explanation. */
  violations: Violation[];
  /** True if the search hit its budget on some key (result then "unknown" for that key; see unknownKeys). */
  incomplete: boolean;
  /** Keys whose search hit the budget: neither proven linearizable nor shown to violate. */
  unknownKeys: string[];
}

export interface CheckOptions {
  /** Value of each key before the history starts; a key not listed starts absent (null). */
  initial?: Map<string, string | null>;
  /** Search budget: distinct (linearized set, register state) configurations per key. */
  maxStatesPerKey?: number;
}
