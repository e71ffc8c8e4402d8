import { redact } from '@app/config';

/** A URL with a scheme inside free text, up to the next blank or quote. */
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]+/g;

/**
 * `text` with the secrets of every URL in it hidden: the password of `user:pass@` and the value of any
 * password-like query parameter become ***. Log lines carry Redis URLs (which carry passwords) in
 * messages and error texts; this runs on every line, so it is one regex pass when there is no URL.
 */
export function scrubUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (url) => redact(url));
}

/**
 * One URL (or request path) without its secrets: libs/config's `redact`, the project's one set of
 * rules, under the name logging code knows it by.
 */
export { redact as redactUrl };
