import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe, orNull } from '../http/validation';
import { storableProblem, storeValue } from '../kv/json-value';
import { anyJson, ItemSchema, KeySchema, LeaseIdSchema, MAX_LIST_LIMIT, ValueSchema } from '../kv/kv.dto';

/**
 * POST /v1/txn (etcd's Txn): compares, then the success or the failure ops, atomically at one
 * revision. The state machine checks the same rules again before the log (kv/validate.ts); these
 * schemas name the field for a 400 and document the route.
 */

const CompareSchema = jsonObject({
  key: KeySchema,
  target: z.enum(['value', 'version', 'createRevision', 'modRevision'], {
    error: (iss) => `must be value, version, createRevision or modRevision, got ${JSON.stringify(iss.input)}`,
  }),
  op: z.enum(['=', '!=', '<', '>'], { error: (iss) => `must be one of = != < >, got ${JSON.stringify(iss.input)}` }),
  value: anyJson().meta({ description: 'For target value: the JSON value to compare with (null = absent); for the others an integer (0 = absent)' }),
})
  .superRefine((c, ctx) => {
    if (c.target !== 'value' && !(typeof c.value === 'number' && Number.isSafeInteger(c.value) && c.value >= 0)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be an integer >= 0 for target ${c.target}` });
    }
    // Order is the stored strings' order: meaningful for strings only (9 would sort above 10).
    if (c.target === 'value' && (c.op === '<' || c.op === '>') && c.value !== null && typeof c.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a string (or null) for ${c.op}: only strings are ordered` });
    }
    const problem = c.target === 'value' ? storableProblem(c.value) : null;
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  })
  // What the store compares: a value as it is stored (json-value.ts), null for absent.
  .transform((c) => ({ ...c, value: c.target !== 'value' ? (c.value as number) : c.value === null ? null : storeValue(c.value) }));

const opOf = (v: unknown): unknown => (typeof v === 'object' && v !== null ? (v as { op?: unknown }).op : undefined);

const TxnOpSchema = z.discriminatedUnion(
  'op',
  [
    jsonObject({ op: z.literal('put'), key: KeySchema, value: ValueSchema, lease: LeaseIdSchema.optional() }),
    jsonObject({ op: z.literal('delete'), key: KeySchema }),
    jsonObject({ op: z.literal('get'), key: KeySchema }),
    jsonObject({
      op: z.literal('range'),
      prefix: z.string({ error: mustBe('a string') }).default(''),
      limit: z
        .number({ error: mustBe(`an integer from 1 to ${MAX_LIST_LIMIT}`) })
        .int({ error: `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
        .min(1, { error: `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
        .max(MAX_LIST_LIMIT, { error: `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
        .default(100),
    }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `must be "put", "delete", "get" or "range", got ${JSON.stringify(opOf(iss.input)) ?? 'nothing'}`
        : mustBe('a JSON object')(iss),
  },
);

export class TxnBodyDto extends createZodDto(
  jsonObject({
    compare: z
      .array(CompareSchema, { error: mustBe('an array') })
      .default([])
      .meta({ description: 'All must hold for the success branch to run' }),
    success: z
      .array(TxnOpSchema, { error: mustBe('an array') })
      .default([])
      .meta({ description: 'Run, in order, when every compare holds' }),
    failure: z
      .array(TxnOpSchema, { error: mustBe('an array') })
      .default([])
      .meta({ description: 'Run, in order, otherwise' }),
  }),
) {}

export class TxnResultDto extends createZodDto(
  z.object({
    succeeded: z.boolean().meta({ description: 'Whether every compare held (the success branch ran)' }),
    results: z
      .array(
        z.object({
          op: z.enum(['put', 'delete', 'get', 'range']),
          key: z.string().optional(),
          prefix: z.string().optional(),
          revision: z.number().int().optional(),
          deleted: z.boolean().optional(),
          item: orNull(ItemSchema, 'string').optional(),
          items: z.array(ItemSchema).optional(),
        }),
      )
      .meta({
        description: 'One per op of the branch that ran: put {key, revision}, delete {key, deleted, revision}, get {key, item|null}, range {prefix, items}',
      }),
    revision: z.number().int().meta({ description: 'The revision of the transaction: every write in it has it' }),
  }),
) {}
