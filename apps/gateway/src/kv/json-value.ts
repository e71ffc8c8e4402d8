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

/** The JSON value a stored string stands for. */
export function loadValue(s: string): JsonValue {
  return s.startsWith(JSON_MARK) ? (JSON.parse(s.slice(1)) as JsonValue) : s;
}

/** loadValue, keeping null for "absent". */
export function loadValueOrNull(s: string | null): JsonValue {
  return s === null ? null : loadValue(s);
}
