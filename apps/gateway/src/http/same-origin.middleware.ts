import type { Middleware } from './express';
import { problem, PROBLEMS } from './problem';
import { sendProblem } from './send-problem';

/** Methods that change nothing; everything else is a write. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed pages, some redirects) and anything malformed
  }
}

/**
 * Writes from a web page of another origin are refused (403), whatever their content type. The
 * JSON-only rule stops a page from sending a body cross-site, but a body-less POST (an admin kill)
 * or DELETE is still a "simple request" a page can make; browsers mark every such write with
 * Origin, and clients that are not browsers send none. Same origin (the dashboard) and the
 * origins in CORS_ORIGINS pass.
 */
export function sameOriginWrites(allowed: readonly string[]): Middleware {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (SAFE.has(req.method ?? 'GET') || origin === undefined || allowed.includes(origin) || sameOrigin(origin, req.headers.host)) {
      next();
      return;
    }
    const detail = `a ${req.method} from a web page of origin ${JSON.stringify(origin)} is refused: writes come from this origin, the origins in CORS_ORIGINS, or clients that are not browsers`;
    sendProblem(req, res, { status: 403, body: problem(PROBLEMS.crossOrigin, 403, detail, { origin }), headers: {}, unexpected: false });
  };
}
