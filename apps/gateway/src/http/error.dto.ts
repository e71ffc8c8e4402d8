import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

/** Every error answer: RFC 9457 problem details (`application/problem+json`). Documents what http/problem.ts writes. */
export const ProblemSchema = z.object({
  type: z.string().meta({ description: 'Stable URI of the kind of problem (or about:blank)', example: 'https://synod.dev/problems/invalid-field' }),
  title: z.string().meta({ description: 'Short summary of the type', example: 'A request field is invalid' }),
  status: z.number().int().meta({ example: 400 }),
  detail: z.string().meta({ description: 'What went wrong, for a human', example: 'value must be a string, got number' }),
  instance: z.string().meta({ description: 'The path of the request', example: '/v1/kv/color' }),
  field: z.string().optional().meta({ description: 'The offending field (400, 413)', example: 'value' }),
  limit: z.number().optional().meta({ description: 'The limit exceeded, in bytes (413)' }),
  requestId: z.string().optional().meta({ description: 'The request id to retry with (503, 504)' }),
});

export class ProblemDto extends createZodDto(ProblemSchema) {}

/** The former name, kept for code that still says ErrorDto. */
export { ProblemDto as ErrorDto };
