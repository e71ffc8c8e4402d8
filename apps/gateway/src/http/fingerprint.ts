import { createHash } from 'node:crypto';

/**
 * JSON with object members sorted by name at every depth: two bodies that mean the same (members
 * in another order, other spacing) write the same text. `undefined` members are left out, as
 * JSON.stringify leaves them out.
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const members = Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * What a request asks, hashed: SHA-256 of method, path and canonical body (base64url, 43
 * characters). It travels with the request id into the replicated state machine, which keeps it
 * with the first answer: a later request under the same Idempotency-Key is a retry only when its
 * fingerprint is the same, and is refused (422) when not. `body` is the body as validated (members
 * the schema does not know are not part of the request); undefined for a request without one.
 */
export function requestFingerprint(method: string, path: string, body?: unknown): string {
  const text = `${method.toUpperCase()}\n${path}\n${body === undefined ? '' : canonicalJson(body)}`;
  return createHash('sha256').update(text).digest('base64url');
}
