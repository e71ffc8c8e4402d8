/**
 * An error answer the gateway means to give: status, JSON body and headers. Thrown anywhere on
 * the request path and written by the exception filter; the body always has `error`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error: string } & Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
    this.name = 'ApiError';
  }

  /** 400 naming the offending field. */
  static badField(field: string, error: string): ApiError {
    return new ApiError(400, { error, field });
  }

  /** 413 naming the field over its size limit. */
  static tooLarge(field: string, limitBytes: number): ApiError {
    return new ApiError(413, { error: `${field} is larger than ${limitBytes} bytes`, field, limit: limitBytes });
  }

  static notFound(error: string, extra: Record<string, unknown> = {}): ApiError {
    return new ApiError(404, { error, ...extra });
  }
}
