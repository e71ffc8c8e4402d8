/**
 * Values are any JSON value; the replicated store keeps strings (its codec, history, compares and
 * digests all work on them). At this boundary a string is stored as itself and any other value
 * as U+0000 followed by its canonical JSON (object keys sorted, so equal values are equal strings
 * and compare equal in a cas or a transaction). A string value may therefore not start with
 * U+0000: that one is refused with a 400 rather than read back as something else.
 */
export const JSON_MARK = '\u0000';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What the store keeps for a JSON value (already checked: a string here never starts with the mark). */
export function storeValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON_MARK + canonicalJson(v);
}

/**
 * The JSON value a stored string stands for. A marked string that is not JSON was written as a
 * string before values could be JSON (when a leading U+0000 was still allowed): it stays one.
 */
export function loadValue(s: string): JsonValue {
  if (!s.startsWith(JSON_MARK)) return s;
  try {
    return JSON.parse(s.slice(1)) as JsonValue;
  } catch {
    return s;
  }
}

// A lone surrogate does not survive UTF-8 encoding: the value a replica decodes would differ.
export const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a value cannot be stored as the client wrote it, or null: a string that is not well-formed
 * UTF-16 or starts with the mark, or what jsonValueProblem finds. (null itself is for the caller:
 * a value refuses it, a compare takes it for "absent".)
 */
export function storableProblem(v: unknown): string | null {
  if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) return 'must be well-formed UTF-16 (lone surrogate)';
    if (v.startsWith(JSON_MARK)) return 'must not start with U+0000 (it marks stored non-string JSON values)';
    return null;
  }
  return jsonValueProblem(v);
}

/** Deeper than this is refused (canonicalJson recurses; a body nested 100 000 deep would exhaust the stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * Why a parsed JSON value cannot be stored as written, or null: a number JSON cannot carry back
 * (1e400 parses to Infinity, which JSON.stringify writes as null), or nesting past MAX_JSON_DEPTH.
 * Iterative, so a deep value is refused without recursion.
 */
export function jsonValueProblem(v: unknown): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v, depth: 0 }];
  while (stack.length > 0) {
    const { v: x, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof x === 'number' && !Number.isFinite(x)) return 'must hold only finite numbers (JSON cannot carry Infinity back)';
    if (typeof x !== 'object' || x === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `must be nested at most ${MAX_JSON_DEPTH} deep`;
    for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push({ v: c, depth: depth + 1 });
  }
  return null;
}

/** loadValue, keeping null for "absent". */
export function loadValueOrNull(s: string | null): JsonValue {
  return s === null ? null : loadValue(s);
}
