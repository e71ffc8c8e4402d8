import { express, type Middleware } from './express';
import { Logger } from '@nestjs/common';
import { refuseNonJson } from './json-only';
import { sendProblem } from './send-problem';
import { toHttpError } from './to-http-error';

/**
 * JSON bodies, at most `limitBytes`. A body of any other content type is refused with 415 before
 * a byte of it is read (see json-only.ts: a web page may send those cross-site); a request
 * without a body needs no content type. Parser errors are answered here (as problem details):
 * Express would otherwise answer them with an HTML page.
 */
export function jsonBody(limitBytes: number, limitText: string): Middleware {
  const parse = express.json({ limit: limitBytes, strict: false, type: () => true });
  const logger = new Logger('JsonBody');
  return (req, res, next) => {
    const refused = refuseNonJson(req);
    if (refused !== null) {
      // The body is not read: close rather than leave it in the socket.
      res.set('Connection', 'close');
      sendProblem(req, res, refused);
      return;
    }
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) {
        next();
        return;
      }
      const out = toHttpError(err, limitText);
      if (out.unexpected) logger.error(`body parser: ${err instanceof Error ? err.message : String(err)}`);
      // The rest of an oversized body is not read: close rather than leave it in the socket.
      if (out.status === 413) res.set('Connection', 'close');
      sendProblem(req, res, out);
    });
  };
}
