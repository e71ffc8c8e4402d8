import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe } from '../http/validation';

export const MAX_TTL_SECONDS = 365 * 24 * 3600;

export class GrantBodyDto extends createZodDto(
  jsonObject({
    ttlSeconds: z
      .number({ error: mustBe(`an integer from 1 to ${MAX_TTL_SECONDS}`) })
      .int({ error: 'must be an integer' })
      .min(1, { error: 'must be at least 1' })
      .max(MAX_TTL_SECONDS, { error: `must be at most ${MAX_TTL_SECONDS}` })
      .meta({ description: 'Seconds the lease lives without a keepalive', example: 10 }),
  }),
) {}

export class LeaseDto extends createZodDto(
  z.object({
    id: z.string().meta({ example: '2s' }),
    ttlSeconds: z.number().int(),
  }),
) {}

export class LeaseInfoDto extends createZodDto(
  z.object({
    id: z.string(),
    ttlSeconds: z.number().int(),
    remainingSeconds: z.number().optional().meta({
      description:
        'What is left of the TTL on the clock of the replica that decides expiry (Raft leader); absent under PBFT, where every replica keeps its own',
    }),
    keys: z.array(z.string()).meta({ description: 'Keys attached to it, sorted' }),
    renewedAt: z.number().int().meta({ description: 'Revision of its grant or last keepalive' }),
  }),
) {}

export class RevokeResultDto extends createZodDto(
  z.object({
    id: z.string(),
    deleted: z.array(z.string()).meta({ description: 'The keys it took with it, all at `revision`' }),
    revision: z.number().int(),
  }),
) {}
