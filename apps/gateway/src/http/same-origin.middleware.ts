import { isLoopback } from '@app/config';
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

/** `name[:port]` or `[v6][:port]`, as a Host header must be (RFC 9110 §7.2). */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::\d{1,5})?$/i;

/** The name in a Host header ("localhost:3000" → localhost, "[::1]:3000" → ::1), lower case; null when malformed. */
function hostName(host: string): string | null {
  const m = HOST_HEADER.exec(host);
  return m === null ? null : (m[1] ?? m[2]).toLowerCase();
}

/**
 * Without ADMIN_TOKEN the API is open to anything that reaches the loopback address, and that
 * includes a web page using DNS rebinding: evil.example re-resolves to 127.0.0.1, so its page and
 * the gateway share an origin (Origin == Host == evil.example) and the same-origin rule lets it in.
 * Its requests still carry Host: evil.example, so only loopback names and addresses (localhost,
 * 127.x, [::1]) and the configured HOST are served. A request without Host comes from no browser.
 */
export function loopbackHostsOnly(configuredHost: string): Middleware {
  const admitted = loopbackHostAdmits(configuredHost);
  return (req, res, next) => {
    const host = req.headers.host;
    if (admitted(host)) {
      next();
      return;
    }
    const detail = `Host ${JSON.stringify(host)} is refused: without ADMIN_TOKEN the gateway answers only to localhost, 127.0.0.1, [::1] or its HOST (${configuredHost})`;
    sendProblem(req, res, { status: 403, body: problem(PROBLEMS.hostNotAllowed, 403, detail, { host }), headers: {}, unexpected: false });
  };
}

/** loopbackHostsOnly's rule alone: whether a request with this Host header is served. */
export function loopbackHostAdmits(configuredHost: string): (host: string | undefined) => boolean {
  const own = configuredHost.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return (host) => {
    const name = host === undefined ? null : hostName(host);
    return host === undefined || (name !== null && (name === own || isLoopback(name)));
  };
}
