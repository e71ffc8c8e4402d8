/** Query parameters whose values are secrets (e.g. redis+sentinel://…?sentinelPassword=…). */
const SECRET_PARAM = /pass|token|secret/i;

/**
 * The URL without its secrets, for logs and messages: the password of the user part and the value of
 * any password-like query parameter become ***. Works on any text, well-formed or not (a garbage URL
 * is exactly what ends up in an error message), and on multi-host URLs that `new URL` refuses
 * (redis+sentinel://h1:26379,h2:26379/…). When in doubt it hides more, never less: the user part
 * ends at the LAST @, so a password with a raw / ? or @ in it is still hidden whole. A request path
 * (text starting with /, e.g. /v1/kv/a@b?token=x) has no user part: `@` is fine in a path, and only
 * its secret query values are hidden. The one redaction of the project: libs/logging uses it too.
 */
export function redact(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  const start = scheme ? scheme[0].length : 0;
  const at = url.startsWith('/') ? -1 : url.lastIndexOf('@');
  let head = '';
  let rest = url;
  if (at >= start) {
    const userinfo = url.slice(start, at);
    const colon = userinfo.indexOf(':');
    // "user:pass@" keeps the user. A lone "x@" is a user name to ioredis, but people write
    // redis://password@host too, so it is hidden; so is everything before @ in text that is no URL.
    head = url.slice(0, start) + (scheme && colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***');
    rest = url.slice(at);
  }
  const q = rest.indexOf('?');
  if (q < 0) return head + rest;
  const query = rest.slice(q).replace(/([?&])([^=&#]*)=([^&#]*)/g, (all, sep: string, key: string) => (SECRET_PARAM.test(key) ? `${sep}${key}=***` : all));
  return head + rest.slice(0, q) + query;
}
