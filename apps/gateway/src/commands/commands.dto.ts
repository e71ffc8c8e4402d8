import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe, typeName } from '../http/validation';
import { ExpectedSchema, KeySchema, ValueSchema } from '../kv/kv.dto';

export const MAX_COMMANDS = 1000;

const opOf = (v: unknown): unknown => (typeof v === 'object' && v !== null ? (v as { op?: unknown }).op : undefined);

/** One command of a batch: the REST calls' rules, under `commands[i].<field>`. */
export const CommandSchema = z.discriminatedUnion(
  'op',
  [
    jsonObject({ op: z.literal('put'), key: KeySchema, value: ValueSchema }),
    jsonObject({ op: z.literal('delete'), key: KeySchema }),
    jsonObject({ op: z.literal('cas'), key: KeySchema, expected: ExpectedSchema, value: ValueSchema }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? `must be "put", "delete" or "cas", got ${JSON.stringify(opOf(iss.input)) ?? 'nothing'}` : mustBe('a JSON object')(iss),
  },
);

const count = (iss: { input?: unknown }): string =>
  `must hold 1 to ${MAX_COMMANDS} commands, got ${Array.isArray(iss.input) ? iss.input.length : typeName(iss.input)}`;

export class CommandsBodyDto extends createZodDto(
  z.object(
    {
      commands: z
        .array(CommandSchema, { error: 'is required: an array of {"op","key",...}' })
        .min(1, { error: count })
        .max(MAX_COMMANDS, { error: count })
        .meta({ description: `1 to ${MAX_COMMANDS} commands, applied in order` }),
    },
    { error: 'must be a JSON object {"commands": [...]}' },
  ),
) {}

export class JobAcceptedDto extends createZodDto(
  z.object({ id: z.string().meta({ description: 'The job id (the Idempotency-Key when given and usable as a BullMQ id)' }) }),
) {}

export class JobDto extends createZodDto(
  z.object({
    id: z.string(),
    state: z.string().meta({ example: 'completed', description: 'waiting, active, delayed (retrying), completed, failed, ...' }),
    attemptsMade: z.number().int(),
    results: z.array(z.object({}).loose()).optional().meta({ description: 'One result per command (op, key, and the REST fields), when completed' }),
    error: z.string().optional().meta({ description: 'Why the last attempt failed' }),
  }),
) {}
