import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from './error.dto';
import { PROBLEM_CONTENT_TYPE } from './problem';

/** An error answer in the OpenAPI document: problem details under their own media type. */
export function ApiProblem(status: number, description: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ApiResponse({ status, description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } } }),
  );
}

/** The error answers every call that goes through consensus can give. */
export function ApiConsensusErrors(): MethodDecorator {
  return applyDecorators(
    ApiProblem(400, 'Bad input; `field` names it'),
    ApiProblem(503, 'No leader / no quorum before the deadline; nothing applied. Has Retry-After'),
    ApiProblem(504, 'Sent but unanswered by the deadline: outcome unknown, retry with the same Idempotency-Key (`requestId`)'),
  );
}

export function ApiIdempotencyKey(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'The request id (at most 200 characters): the same key with the same request (method, path, body) gives one effect and the first answer; with a different request, 422. `<client>/<seq>` is request seq of a client session: a seq older than the session window (or of a dropped session) is refused with 409, never applied twice',
    }),
    ApiProblem(422, 'The Idempotency-Key was already used for a different request; nothing applied'),
    ApiProblem(
      409,
      'The Idempotency-Key is past its session window (`reason`: outside-window | session-expired): not applied now; an earlier attempt may have been',
    ),
  );
}
