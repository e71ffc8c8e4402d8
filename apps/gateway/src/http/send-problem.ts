import type { Request, Response } from './express';
import { PROBLEM_CONTENT_TYPE, withInstance } from './problem';
import type { HttpError } from './to-http-error';

/** Writes an error answer as `application/problem+json`, with the request's path as `instance`. */
export function sendProblem(req: Request, res: Response, out: HttpError): void {
  // Set before json(): Express keeps a Content-Type already set (and adds the charset).
  res
    .status(out.status)
    .set(out.headers)
    .set('Content-Type', PROBLEM_CONTENT_TYPE)
    .json(withInstance(out.body, req.originalUrl ?? req.url));
}
