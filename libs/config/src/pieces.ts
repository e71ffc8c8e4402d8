import { isIP } from 'node:net';
import { z } from 'zod';
import type { Protocol } from '@app/wire';
import { redact } from './redact';
import { redisOptions, RedisUrlError } from './redis-url';
import { parseSize } from './size';

/**
 * The pieces every app's environment schema is built from. Each piece reads one variable and ALWAYS
 * yields a value (its default when the text is bad) after reporting the problem at that variable,
 * so the rules across variables still run and one start lists every problem at once.
 */

export type Report = (message: string) => void;

/** A variable: `read` gets its trimmed text (undefined when unset or blank: VAR= means "default"). */
export function variable<T>(read: (text: string | undefined, bad: Report) => T) {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): T => {
      const bad: Report = (message) => ctx.addIssue({ code: 'custom', message });
      if (v !== undefined && typeof v !== 'string') {
        bad('must be a string');
        return read(undefined, () => undefined);
      }
      const text = v?.trim();
      return read(text === '' ? undefined : text, bad);
    });
}

/** Ids of nodes and clusters: they become parts of Redis keys and channel names. */
export const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID_RULE = '1-64 characters of [A-Za-z0-9_-]';

export const text = (dflt: string) => variable((t) => t ?? dflt);

/** Optional text, e.g. a directory; null when unset. */
export const optionalText = () => variable((t): string | null => t ?? null);

/** A secret (token, password): null when unset, and never quoted in a message. */
export const secret = () => variable((t): string | null => t ?? null);

export function int(dflt: number, min: number, max: number) {
  return variable((t, bad) => {
    if (t === undefined) return dflt;
    const n = Number(t);
    if (/^\d+$/.test(t) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
    bad(`must be an integer in [${min}, ${max}], got ${JSON.stringify(t)}`);
    return dflt;
  });
}

/** A TCP port; 0 = any free port. */
export const port = (dflt: number) => int(dflt, 0, 65535);

/** Milliseconds, at most what setTimeout can wait. */
export const ms = (dflt: number, min: number) => int(dflt, min, 2 ** 31 - 1);

export function oneOf<const V extends string>(values: readonly V[], dflt: V) {
  const list = values.length === 2 ? values.join(' or ') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return variable((t, bad): V => {
    if (t === undefined) return dflt;
    if ((values as readonly string[]).includes(t)) return t as V;
    bad(`must be ${list}, got ${JSON.stringify(t)}`);
    return dflt;
  });
}

export const protocol = () => oneOf<Protocol>(['raft', 'pbft'], 'raft');

export function id(dflt: string) {
  return variable((t, bad) => {
    const v = t ?? dflt;
    if (ID.test(v)) return v;
    bad(`must be ${ID_RULE}, got ${JSON.stringify(v)}`);
    return dflt;
  });
}

/** An id with no default; `what` says what it is, for the "is required" message. */
export function requiredId(what: string) {
  return variable((t, bad) => {
    if (t === undefined) bad(`is required (${what})`);
    else if (!ID.test(t)) bad(`must be ${ID_RULE}, got ${JSON.stringify(t)}`);
    return t ?? '';
  });
}

/** A comma list of node ids, as written (so later rules can still name them); undefined = default. */
export function nodeList() {
  return variable((t, bad): string[] | undefined => {
    if (t === undefined) return undefined;
    const ids = t.split(',').map((s) => s.trim());
    for (const bogus of ids.filter((s) => !ID.test(s))) bad(`contains an invalid id ${JSON.stringify(bogus)} (ids are ${ID_RULE})`);
    const twice = [...new Set(ids.filter((s, i) => ids.indexOf(s) !== i))];
    if (twice.length > 0) bad(`lists ${twice.join(', ')} more than once`);
    return ids;
  });
}

/** Bind address of a server: a host name or an IP address (no scheme, no port). */
export function host(dflt: string) {
  return variable((t, bad) => {
    if (t === undefined) return dflt;
    const bare = t.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare) !== 0 || /^[A-Za-z0-9_]([A-Za-z0-9._-]{0,252})$/.test(t)) return bare;
    bad(`must be a host name or IP address to listen on (e.g. 127.0.0.1 or 0.0.0.0), got ${JSON.stringify(t)}`);
    return dflt;
  });
}

/** A size like 1mb / 512kb / 100 (bytes). */
export function size(dflt: string) {
  return variable((t, bad) => {
    const text = t ?? dflt;
    const bytes = parseSize(text);
    if (bytes !== null && bytes >= 1) return { text, bytes };
    bad(`must be a size like 1mb, 512kb or 100000 (bytes), got ${JSON.stringify(text)}`);
    return { text: dflt, bytes: parseSize(dflt) as number };
  });
}

/** Why `url` is not a Redis URL this project can use, or null when it is. The message names no secret. */
export function redisUrlProblem(url: string): string | null {
  try {
    redisOptions(url);
    return null;
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    return `must be a Redis URL: ${err.message}; got ${JSON.stringify(redact(url))}`;
  }
}

/** An optional Redis URL (the rules across variables decide what is required). */
export function redisUrl() {
  return variable((t, bad) => {
    if (t === undefined) return undefined;
    const problem = redisUrlProblem(t);
    if (problem) bad(problem);
    return t;
  });
}

/**
 * `id=url` pairs, comma separated: n1=redis://a:6379,n2=redis://b:6379. A comma followed by something
 * other than `id=` belongs to the URL, so redis+sentinel://h1,h2/master URLs can be listed too.
 */
export function routes() {
  return variable((t, bad): Record<string, string> | undefined => {
    if (t === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const entry of t.split(/,(?=\s*[A-Za-z0-9_-]+\s*=)/)) {
      const eq = entry.indexOf('=');
      const nodeId = entry.slice(0, eq).trim();
      const url = entry.slice(eq + 1).trim();
      if (eq < 0 || !ID.test(nodeId)) {
        bad(`must be comma-separated id=url pairs (n1=redis://127.0.0.1:7001,n2=…), got ${JSON.stringify(redact(entry.trim()))}`);
        continue;
      }
      if (nodeId in out) bad(`gives ${nodeId} more than one URL`);
      const problem = redisUrlProblem(url);
      if (problem) bad(`for ${nodeId}: ${problem}`);
      out[nodeId] = url;
    }
    return out;
  });
}

/** An http(s):// base URL, without a trailing slash; null when unset. */
export function httpUrl() {
  return variable((t, bad): string | null => {
    if (t === undefined) return null;
    let ok: boolean;
    try {
      const u = new URL(t);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.search && !u.hash;
    } catch {
      ok = false;
    }
    if (!ok) bad(`must be an http:// URL like http://127.0.0.1:3100, got ${JSON.stringify(redact(t))}`);
    return ok ? t.replace(/\/+$/, '') : null;
  });
}

/** Checks one value (a command-line flag, say) with a piece; its problems go to `problems` after `label`. */
export function check<T>(piece: z.ZodType<T>, value: string | undefined, label: string, problems: string[]): T | undefined {
  const r = piece.safeParse(value);
  if (r.success) return r.data;
  problems.push(...r.error.issues.map((i) => `${label} ${i.message}`));
  return undefined;
}
