import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { ErrorDto } from './error.dto';

/** The error answers every call that goes through consensus can give. */
export function ApiConsensusErrors(): MethodDecorator {
  return applyDecorators(
    ApiResponse({ status: 400, description: 'Bad input; `field` names it', type: ErrorDto }),
    ApiResponse({ status: 503, description: 'No leader / no quorum before the deadline; nothing applied. Has Retry-After', type: ErrorDto }),
    ApiResponse({ status: 504, description: 'Sent but unanswered by the deadline: outcome unknown, retry with the same Idempotency-Key (`requestId`)', type: ErrorDto }),
  );
}

export function ApiIdempotencyKey(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'The request id (at most 200 characters): the same key twice gives one effect and the first answer',
    }),
  );
}
