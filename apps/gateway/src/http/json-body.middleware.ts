import { express, type Middleware } from './express';
import { Logger } from '@nestjs/common';
import { sendProblem } from './send-problem';
import { toHttpError } from './to-http-error';

/**
 * JSON bodies of any content type (a curl -d without -H still works), at most `limitBytes`.
 * Parser errors are answered here (as problem details): Express would otherwise answer them with an
 * HTML page.
 */
export function jsonBody(limitBytes: number, limitText: string): Middleware {
  const parse = express.json({ limit: limitBytes, strict: false, type: () => true });
  const logger = new Logger('JsonBody');
  return (req, res, next) => {
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
