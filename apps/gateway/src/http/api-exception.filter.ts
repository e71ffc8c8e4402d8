import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from './express';
import { toHttpError } from './to-http-error';

/** Every error on the HTTP path leaves as JSON `{"error": ...}`; unexpected ones are logged. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(private readonly bodyLimit: string) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const out = toHttpError(exception, this.bodyLimit);
    if (out.unexpected) this.logger.error(`${out.status}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(out.status).set(out.headers).json(out.body);
  }
}
