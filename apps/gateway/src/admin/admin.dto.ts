import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { BYZANTINE_BEHAVIORS } from '@app/wire';
import { jsonObject, orNull } from '../http/validation';

export class ByzantineBodyDto extends createZodDto(
  jsonObject({
    behavior: z
      .enum(BYZANTINE_BEHAVIORS, { error: (iss) => `must be one of ${BYZANTINE_BEHAVIORS.join(', ')}, got ${JSON.stringify(iss.input) ?? 'nothing'}` })
      .meta({ example: 'equivocate' }),
  }),
) {}

/** `?mode=hard`: SIGKILL of the process; absent (or soft): the replica's own crash. */
export class KillQueryDto extends createZodDto(
  z.object({
    mode: z
      .preprocess(
        (v) => (v === '' ? undefined : v),
        z.enum(['soft', 'hard'], { error: (iss) => `must be "hard" (SIGKILL of the process) or absent, got ${JSON.stringify(iss.input)}` }).default('soft'),
      )
      .meta({ description: 'hard: SIGKILL of the replica process (launcher only)' }),
  }),
) {}

/** The replica's ControlStatus (or, for a hard kill / respawn, what the supervisor says of the process). */
export class ControlStatusDto extends createZodDto(
  z.object({
    id: z.string().meta({ example: 'n1' }),
    alive: z.boolean(),
    isolated: z.boolean().optional(),
    byzantine: z.string().optional(),
    role: z.string().optional(),
    term: z.number().int().optional(),
    leader: orNull(z.string(), 'string').optional(),
    commitIndex: z.number().int().optional(),
    appliedIndex: z.number().int().optional(),
    pid: orNull(z.number().int(), 'integer').optional(),
    running: z.boolean().optional().meta({ description: 'Hard kill / respawn: whether the process runs' }),
  }),
) {}

/** What the launcher's supervisor says of a replica's processes (storage kill / restart). */
export class ProcessStatusDto extends createZodDto(
  z.object({
    id: z.string().meta({ example: 'n1' }),
    running: z.boolean().meta({ description: "Whether the replica's process runs" }),
    pid: orNull(z.number().int(), 'integer'),
    storageRunning: orNull(z.boolean(), 'boolean').meta({ description: "Whether the replica's own Redis runs (null: one shared Redis)" }),
    restarts: z.number().int().meta({ description: 'Restarts after the process died unasked' }),
  }),
) {}
