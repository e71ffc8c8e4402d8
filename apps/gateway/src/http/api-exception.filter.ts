import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from './express';
import { sendProblem } from './send-problem';
import { toHttpError } from './to-http-error';

/** Every error on the HTTP path leaves as RFC 9457 problem details; unexpected ones are logged. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(private readonly bodyLimit: string) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const out = toHttpError(exception, this.bodyLimit);
    if (out.unexpected) this.logger.error(`${out.status}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(http.getRequest<Request>(), res, out);
  }
}
