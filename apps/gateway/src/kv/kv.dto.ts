import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe, orNull } from '../http/validation';
import { LONE_SURROGATE, storableProblem, storeValue, type JsonValue } from './json-value';

/**
 * The KV request and response shapes, once: nestjs-zod's pipe checks requests against these
 * schemas and @nestjs/swagger documents them. Byte limits are configuration, so they are checked
 * after the schema, in kv-limits.ts.
 */

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export const wellFormed = [(s: string) => !LONE_SURROGATE.test(s), { error: 'must be well-formed UTF-16 (lone surrogate)' }] as const;

/** `?x=` counts as absent, as it always has. */
export const emptyAsAbsent = (v: unknown): unknown => (v === '' ? undefined : v);

export const KeySchema = z
  .string({ error: mustBe('a string', 'is required') })
  .min(1, { error: 'must not be empty' })
  .refine(...wellFormed)
  .meta({ description: 'Non-empty; at most MAX_KEY_BYTES bytes of UTF-8', example: 'color' });

/**
 * Any JSON value (a body is parsed JSON: anything present is one). Documented as "any" rather than
 * zod's recursive JSON schema, which OpenAPI 3.0 tools render badly.
 */
export const anyJson = (whenMissing = 'is required (a JSON value)') =>
  z
    .any()
    .refine((v) => v !== undefined, { error: whenMissing })
    .transform((v) => v as JsonValue);

/** Any JSON value, checked and turned into the string the store keeps (json-value.ts). */
const jsonValue = (whenMissing: string) =>
  anyJson(whenMissing)
    .superRefine((v, ctx) => {
      const problem = v === null ? 'must not be null (null stands for "absent": a cas expecting no key, a deleted key in a watch)' : storableProblem(v);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(storeValue);

export const ValueSchema = jsonValue('is required (any JSON value)').meta({
  description: 'Any JSON value (a string is the common case); at most MAX_VALUE_BYTES bytes of UTF-8 as stored (non-strings as their JSON)',
  example: 'blue',
});

/** Required, and null is meaningful ("must be absent"), so absence is not null. */
export const ExpectedSchema = z
  .union([z.null(), jsonValue('is required (a JSON value, or null for "key must be absent")')], {
    error: (iss) => (iss.input === undefined ? 'is required (a JSON value, or null for "key must be absent")' : 'must be a JSON value or null'),
  })
  .meta({ description: 'The current value required, or null for "key must be absent"', example: 'blue' });

export const ConsistencySchema = z
  .preprocess(
    emptyAsAbsent,
    z.enum(['linearizable', 'stale'], { error: (iss) => `must be "linearizable" or "stale", got ${JSON.stringify(iss.input)}` }).default('linearizable'),
  )
  .meta({ description: 'linearizable (default): through the leader; stale: any alive replica' });

const badLimit = (iss: { input?: unknown }): string => `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(iss.input)}`;
const LimitSchema = z
  .preprocess(
    emptyAsAbsent,
    z
      .string({ error: badLimit })
      .regex(/^\d{1,7}$/, { error: badLimit })
      .refine((s) => Number(s) >= 1 && Number(s) <= MAX_LIST_LIMIT, { error: badLimit })
      .optional(),
  )
  .transform((s) => (s === undefined ? DEFAULT_LIST_LIMIT : Number(s)))
  .meta({ description: `1 to ${MAX_LIST_LIMIT}, default ${DEFAULT_LIST_LIMIT}`, example: '10' });

/** A revision in a query string: digits only, a safe integer. */
export const revisionParam = (description: string) => wholeNumberParam(description, '42');

/** An optional integer >= 0 in a query string (a revision, an offset): digits only, a safe integer. */
export const wholeNumberParam = (description: string, example: string) =>
  z
    .preprocess(
      emptyAsAbsent,
      z
        .string({ error: 'must be given once, as an integer >= 0' })
        .regex(/^\d{1,15}$/, { error: (iss) => `must be an integer >= 0, got ${JSON.stringify(iss.input)}` })
        .optional(),
    )
    .transform((s) => (s === undefined ? undefined : Number(s)))
    .meta({ description, example });

// ---- requests

export const LeaseIdSchema = z
  .string({ error: mustBe('a lease id (a string)') })
  .min(1, { error: 'must not be empty' })
  .max(32, { error: 'must be at most 32 characters' })
  .meta({ description: 'A lease id from POST /v1/leases: the key goes when the lease does', example: '2s' });

export class PutBodyDto extends createZodDto(jsonObject({ value: ValueSchema, lease: LeaseIdSchema.optional() })) {}

export class CasBodyDto extends createZodDto(jsonObject({ expected: ExpectedSchema, value: ValueSchema })) {}

export class ReadQueryDto extends createZodDto(
  z.object({
    consistency: ConsistencySchema,
    revision: revisionParam('Read the key as it was at this revision (410 with compactRevision when compacted away; 400 when in the future)'),
  }),
) {}

export class ListQueryDto extends createZodDto(
  z.object({
    prefix: z.string({ error: 'must be given once, as a string' }).default('').meta({ description: 'Keys starting with this (at most MAX_KEY_BYTES bytes)' }),
    after: z.string({ error: 'must be given once, as a string' }).optional().meta({ description: 'Only keys after this one: the `next` of the page before' }),
    limit: LimitSchema,
    consistency: ConsistencySchema,
  }),
) {}

// ---- responses (documentation: the controller builds them in kv-responses.ts)

export const ItemSchema = z.object({
  key: z.string().meta({ example: 'color' }),
  value: anyJson().meta({ example: 'blue', description: 'The JSON value written' }),
  revision: z.number().int().meta({ example: 42, description: 'The revision of its last change (= modRevision)' }),
  createRevision: z.number().int().meta({ example: 17, description: 'The revision that created it (since it last did not exist)' }),
  modRevision: z.number().int().meta({ example: 42, description: 'The revision of its last change' }),
  version: z.number().int().meta({ example: 3, description: 'Changes since its creation (1 when created)' }),
  lease: z.string().optional().meta({ description: 'The lease it is attached to, if any' }),
});

export class ItemDto extends createZodDto(ItemSchema) {}

export class DeleteResultDto extends createZodDto(
  z.object({ key: z.string(), deleted: z.boolean().meta({ description: 'false when the key was absent' }), revision: z.number().int() }),
) {}

export class CasResultDto extends createZodDto(
  z.object({
    succeeded: z.boolean(),
    value: anyJson().meta({ description: 'The value now (the new one on success, the current one on failure; null when absent)' }),
    revision: z.number().int(),
  }),
) {}

export class ListResultDto extends createZodDto(
  z.object({
    items: z.array(ItemSchema),
    next: orNull(z.string(), 'string').meta({ description: 'Pass as `after` for the next page; null on the last page' }),
    revision: z.number().int().meta({ description: 'The store revision the page was read at' }),
  }),
) {}
