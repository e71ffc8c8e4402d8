/** Query parameters whose values are secrets (`?password=`, `?sentinelPassword=`, `?token=`). */
const SECRET_PARAM = /pass|token|secret/i;
/** A URL with a scheme inside free text, up to the next blank or quote. */
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]+/g;

/**
 * `text` with the secrets of every URL in it hidden: the password of `user:pass@` and the value of any
 * password-like query parameter become ***. Log lines carry Redis URLs (which carry passwords) in
 * messages and error texts; this runs on every line, so it is one regex pass when there is no URL.
 */
export function scrubUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, redactUrl);
}

/**
 * One URL without its secrets. A URL with a scheme loses its password and secret query values; a
 * path (`/v1/kv/a@b?token=x`, a request's URL) only its secret query values: `@` is fine in a path.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme < 0 ? url.length : scheme + 3;
  const q = url.indexOf('?', scheme < 0 ? 0 : start);
  let head = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const at = head.lastIndexOf('@');
  if (scheme >= 0 && at >= start) {
    const userinfo = head.slice(start, at);
    const colon = userinfo.indexOf(':');
    // redis://password@host is common too, so a lone user part is hidden as well.
    head = `${head.slice(0, start)}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}${head.slice(at)}`;
  }
  return head + query.replace(/([?&])([^=&#]*)=([^&#]*)/g, (all, sep: string, key: string) => (SECRET_PARAM.test(key) ? `${sep}${key}=***` : all));
}
