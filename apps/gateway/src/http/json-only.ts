import type { IncomingMessage } from 'node:http';
import { problem, PROBLEMS } from './problem';
import type { HttpError } from './to-http-error';

/**
 * Request bodies are `application/json` and nothing else. A web page can send text/plain,
 * x-www-form-urlencoded or multipart/form-data to any origin without asking (a CORS "simple
 * request"); were those parsed as JSON, any page a user opens could write to the cluster. JSON
 * needs a preflight, which the gateway never grants unless CORS_ORIGINS says so.
 */

/** Whether the request carries a body: chunked, or a Content-Length above 0 (an empty body is none). */
export function carriesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  // Node's parser has refused a malformed length already; anything but zero is a body.
  return length !== undefined && !/^\s*0+\s*$/.test(length);
}

/** The media type of a Content-Type header, lower case and without parameters (charset); null when absent. */
export function mediaType(header: string | undefined): string | null {
  if (header === undefined) return null;
  const type = header.split(';', 1)[0].trim().toLowerCase();
  return type === '' ? null : type;
}

/** null when the request may go on; else the 415 naming what was sent. */
export function refuseNonJson(req: IncomingMessage): HttpError | null {
  if (!carriesBody(req)) return null;
  const sent = req.headers['content-type'];
  if (mediaType(sent) === 'application/json') return null;
  const what = sent === undefined ? 'no Content-Type' : JSON.stringify(sent);
  const body = problem(PROBLEMS.unsupportedMediaType, 415, `a request body must be application/json (charset allowed), got ${what}`, {
    contentType: sent ?? null,
  });
  return { status: 415, body, headers: {}, unexpected: false };
}
