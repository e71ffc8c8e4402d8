import type { ServerResponse } from 'node:http';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON answer written straight to Node's response, as Express's `res.json` writes it (status,
 * Content-Type with its charset, Content-Length; no ETag: the gateway turns those off), without
 * Express: the lean KV routes (kv/kv.fast-path.ts) have no Express response to call it on, and
 * error answers from either path go through here so that both write the same bytes.
 */
export function writeJson(res: ServerResponse, status: number, body: unknown, contentType = JSON_CONTENT_TYPE, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const name in headers) res.setHeader(name, headers[name]);
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
