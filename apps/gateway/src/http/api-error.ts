import { defaultProblem, problem, PROBLEMS, type Problem, type ProblemType } from './problem';

/**
 * An error answer the gateway means to give: an RFC 9457 problem and headers. Thrown anywhere on
 * the request path and written by the exception filter.
 *
 * `new ApiError(status, { error, ...extensions })`: `error` becomes `detail` (the words a human
 * reads), the other members become extensions, and the problem type follows from the status
 * unless `kind` names one.
 */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(
    readonly status: number,
    body: { error: string } & Record<string, unknown>,
    readonly headers: Record<string, string> = {},
    kind: ProblemType = defaultProblem(status),
  ) {
    super(body.error);
    this.name = 'ApiError';
    const { error, ...extensions } = body;
    this.problem = problem(kind, status, error, extensions);
  }

  /** 400 naming the offending field. */
  static badField(field: string, detail: string): ApiError {
    return new ApiError(400, { error: detail, field }, {}, PROBLEMS.invalidField);
  }

  /** 413 naming the field over its size limit. */
  static tooLarge(field: string, limitBytes: number): ApiError {
    return new ApiError(413, { error: `${field} is larger than ${limitBytes} bytes`, field, limit: limitBytes }, {}, PROBLEMS.tooLarge);
  }

  /** 410: history at or below `compactRevision` is gone; reading from it is possible again at compactRevision. */
  static compacted(revision: number, compactRevision: number, field = 'revision'): ApiError {
    return new ApiError(
      410,
      { error: `${field} ${revision} is compacted: the history kept starts after revision ${compactRevision}`, field, compactRevision },
      {},
      PROBLEMS.compacted,
    );
  }

  static notFound(detail: string, extra: Record<string, unknown> = {}): ApiError {
    return new ApiError(404, { error: detail, ...extra }, {}, PROBLEMS.notFound);
  }
}
