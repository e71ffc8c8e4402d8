import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, mustBe, orNull } from '../http/validation';
import { emptyAsAbsent, wellFormed, wholeNumberParam } from '../kv/kv.dto';

/**
 * The topic request and response shapes (issue 14; DESIGN.md fixes the answers' members). Values
 * are strings: the replicated log keeps a message's value as the client sent it (a JSON document
 * travels as its text). Byte limits are configuration (MAX_KEY_BYTES, MAX_VALUE_BYTES), checked in
 * the controller after these schemas, as the KV routes do.
 */

export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
const NAME_RULE = 'must be 1 to 200 of A-Z a-z 0-9 . _ -';

/** A topic or a group name. */
export const nameSchema = (what: string) =>
  z
    .string({ error: mustBe(`a ${what} name (a string)`) })
    .regex(NAME_PATTERN, { error: (iss) => `${NAME_RULE}, got ${JSON.stringify(iss.input)}` })
    .meta({ description: `A ${what} name: 1 to 200 of A-Z a-z 0-9 . _ -`, example: what === 'topic' ? 'orders.created' : 'payments' });

export const TopicNameSchema = nameSchema('topic');
export const GroupNameSchema = nameSchema('group');

export const MAX_FETCH = 1000;
export const MAX_WAIT_MS = 30_000;
export const DEFAULT_VISIBILITY_MS = 30_000;
export const MAX_VISIBILITY_MS = 24 * 3600 * 1000;
export const MAX_DELAY_MS = 24 * 3600 * 1000;
export const MAX_HEADERS = 64;
export const MAX_IDS = 1000;
export const MAX_ID_CHARS = 256;
export const MAX_CONSUMER_CHARS = 200;

/** An integer query parameter from `min` to `max`, `dflt` when absent. */
const intParam = (min: number, max: number, dflt: number, description: string) => {
  const bad = (iss: { input?: unknown }): string => `must be an integer from ${min} to ${max}, got ${JSON.stringify(iss.input)}`;
  return z
    .preprocess(
      emptyAsAbsent,
      z
        .string({ error: bad })
        .regex(/^\d{1,9}$/, { error: bad })
        .refine((s) => Number(s) >= min && Number(s) <= max, { error: bad })
        .optional(),
    )
    .transform((s) => (s === undefined ? dflt : Number(s)))
    .meta({ description: `${description}; ${min} to ${max}, default ${dflt}` });
};

// ---- requests

const HeadersSchema = z
  .record(
    z
      .string()
      .min(1, { error: 'names must not be empty' })
      .refine(...wellFormed),
    z.string({ error: mustBe('a string') }).refine(...wellFormed),
    {
      error: mustBe('an object of string values'),
    },
  )
  .refine((h) => Object.keys(h).length <= MAX_HEADERS, { error: `must have at most ${MAX_HEADERS} entries` })
  .meta({ description: `String headers that travel with the message (at most ${MAX_HEADERS})`, example: { 'content-type': 'application/json' } });

export class PublishBodyDto extends createZodDto(
  jsonObject({
    key: z
      .string({ error: mustBe('a string') })
      .min(1, { error: 'must not be empty' })
      .refine(...wellFormed)
      .optional()
      .meta({ description: 'Messages with the same key are delivered in order, to one consumer of a group at a time (at most MAX_KEY_BYTES bytes)' }),
    value: z
      .string({ error: mustBe('a string (send a JSON document as its text)') })
      .refine(...wellFormed)
      .meta({ description: 'The message, a string (at most MAX_VALUE_BYTES bytes of UTF-8)', example: '{"order":42}' }),
    headers: HeadersSchema.optional(),
  }),
) {}

export class FetchQueryDto extends createZodDto(
  z.object({
    group: z.preprocess(emptyAsAbsent, GroupNameSchema).meta({ description: 'The consumer group (created at the topic start on first use); required' }),
    max: intParam(1, MAX_FETCH, 1, 'Most messages to lease'),
    waitMs: intParam(0, MAX_WAIT_MS, 0, 'Long poll: wait this long for a message when none is deliverable now'),
    visibilityMs: intParam(1, MAX_VISIBILITY_MS, DEFAULT_VISIBILITY_MS, 'The deliveries are leased this long; unacknowledged, they are delivered again'),
    consumer: z
      .preprocess(
        emptyAsAbsent,
        z
          .string({ error: 'must be given once, as a string' })
          .max(MAX_CONSUMER_CHARS, { error: `must be at most ${MAX_CONSUMER_CHARS} characters` })
          .refine(...wellFormed)
          .optional(),
      )
      .meta({ description: 'Who fetches (default: an id of this request)' }),
  }),
) {}

const IdsSchema = z
  .array(
    z
      .string({ error: mustBe('a message id (a string)') })
      .min(1, { error: 'must not be empty' })
      .max(MAX_ID_CHARS, { error: `must be at most ${MAX_ID_CHARS} characters` }),
    { error: mustBe('an array of message ids') },
  )
  .min(1, { error: 'must not be empty' })
  .max(MAX_IDS, { error: `must have at most ${MAX_IDS} ids` })
  .meta({ description: 'Message ids (`<topic>/<offset>`) as a fetch delivered them', example: ['orders.created/0'] });

export class AckBodyDto extends createZodDto(jsonObject({ group: GroupNameSchema, ids: IdsSchema })) {}

export class NackBodyDto extends createZodDto(
  jsonObject({
    group: GroupNameSchema,
    ids: IdsSchema,
    delayMs: z
      .number({ error: mustBe(`an integer from 0 to ${MAX_DELAY_MS}`) })
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must be >= 0' })
      .max(MAX_DELAY_MS, { error: `must be at most ${MAX_DELAY_MS}` })
      .optional()
      .meta({ description: 'Deliver them again no sooner than this (default 0)', example: 1000 }),
  }),
) {}

export class TailQueryDto extends createZodDto(
  z.object({
    fromOffset: wholeNumberParam(
      'First offset to send (default: from the end, new messages only). A Last-Event-ID header wins: the stream resumes after it',
      '0',
    ),
  }),
) {}

// ---- responses (documentation: the controller builds them)

export class PublishResultDto extends createZodDto(
  z.object({
    topic: z.string(),
    id: z.string().meta({ description: 'The message id, `<topic>/<offset>`: the idempotency key of what handling it does', example: 'orders.created/0' }),
    offset: z.number().int().meta({ example: 0 }),
    revision: z.number().int().meta({ description: 'The store revision of the publish' }),
  }),
) {}

const DeliverySchema = z.object({
  id: z.string().meta({ example: 'orders.created/0' }),
  offset: z.number().int(),
  key: orNull(z.string(), 'string'),
  value: z.string(),
  headers: z.record(z.string(), z.string()),
  attempt: z.number().int().meta({ description: '1 on first delivery' }),
});

export class FetchResultDto extends createZodDto(
  z.object({ messages: z.array(DeliverySchema).meta({ description: 'Leased to this consumer for visibilityMs: ack or nack each' }) }),
) {}

export class AckResultDto extends createZodDto(
  z.object({
    acked: z.array(z.string()),
    unknown: z.array(z.string()).meta({ description: 'Ids that name no message this group still has (never published, or retained no more)' }),
  }),
) {}

export class NackResultDto extends createZodDto(
  z.object({
    nacked: z.array(z.string()),
    unknown: z.array(z.string()).meta({ description: 'Ids that name no message this group still has' }),
  }),
) {}

export class TopicInfoDto extends createZodDto(
  z.object({
    topic: z.string(),
    startOffset: z.number().int().meta({ description: 'The oldest offset retained' }),
    endOffset: z.number().int().meta({ description: 'The offset the next message gets' }),
    groups: z.array(
      z.object({
        group: z.string(),
        committed: z.number().int().meta({ description: 'Every offset below this is acknowledged' }),
        lag: z.number().int().meta({ description: 'Messages after `committed` not yet acknowledged' }),
        inFlight: z.number().int().meta({ description: 'Deliveries leased now' }),
      }),
    ),
  }),
) {}
