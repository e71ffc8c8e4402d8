import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe } from '../http/validation';
import { revisionParam } from '../kv/kv.dto';

/** GET /v1/watch: one key or a prefix (neither: every key), from a revision (absent: from now). */
export class WatchQueryDto extends createZodDto(
  z.object({
    key: z.string({ error: 'must be given once, as a string' }).min(1, { error: 'must not be empty' }).optional().meta({ description: 'Watch this key only' }),
    prefix: z.string({ error: 'must be given once, as a string' }).optional().meta({ description: 'Watch every key starting with this (default: all keys)' }),
    fromRevision: revisionParam(
      'First revision to deliver (default: changes from now on). A Last-Event-ID header takes precedence: the stream resumes after it',
    ),
  }),
) {}

export class CompactBodyDto extends createZodDto(
  jsonObject({
    revision: z
      .number({ error: mustBe('an integer >= 0') })
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must be >= 0' })
      .meta({ description: 'Forget the history at and below this revision', example: 1000 }),
  }),
) {}

export class CompactResultDto extends createZodDto(
  z.object({
    compactRevision: z.number().int().meta({ description: 'The compaction point now: reads and watches need revisions above it' }),
    revision: z.number().int().meta({ description: 'The revision of the compaction itself' }),
  }),
) {}
