import { createZodValidationPipe } from 'nestjs-zod';
import { z, type ZodType } from 'zod';
import { ApiError } from './api-error';

/**
 * Zod schemas are the one description of the request shapes: nestjs-zod's pipe checks bodies and
 * queries with them and @nestjs/swagger documents them. This file turns a failed check into the
 * 400 the REST contract promises: problem details naming the field.
 *
 * The schemas' messages are predicates read after the field name ("must be a string, got
 * number"), so that `detail` reads "value must be a string, got number"; zod's own defaults are
 * sentences and get a colon.
 */

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** A zod `error` option: "is required (<what>)" when absent, else "must be <what>, got <type>". */
export function mustBe(what: string, whenMissing = `is required (${what})`): (iss: { input?: unknown }) => string {
  return (iss) => (iss.input === undefined ? whenMissing : `must be ${what}, got ${typeName(iss.input)}`);
}

/** A JSON object schema; "body must be a JSON object, got array" when it is not one. */
export function jsonObject<S extends z.ZodRawShape>(shape: S): z.ZodObject<S> {
  return z.object(shape, { error: mustBe('a JSON object', 'is required: a JSON object') });
}

/**
 * `schema`, or null. zod >= 4.2 writes a nullable as `type: ['string', 'null']`, which nestjs-zod
 * 5.5 hands to @nestjs/swagger as an array of strings; naming the type in meta makes zod keep its
 * anyOf form, which cleanupOpenApiDoc turns into OpenAPI 3.0's `nullable: true`.
 */
export function orNull<T extends z.ZodType>(schema: T, type: 'string' | 'integer' | 'number' | 'boolean'): z.ZodNullable<T> {
  return schema.nullable().meta({ type });
}

/** `commands[3].value` from zod's path ['commands', 3, 'value']; the root is `root` (e.g. body). */
export function fieldOf(path: readonly PropertyKey[], root: string): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? root : out.startsWith('[') ? `${root}${out}` : out;
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

// Duck-typed: a ZodError from another copy of zod (nestjs-zod brings its own import) is one too.
function issuesOf(error: unknown): Issue[] {
  const issues = typeof error === 'object' && error !== null ? (error as { issues?: unknown }).issues : undefined;
  return Array.isArray(issues) ? (issues as Issue[]) : [];
}

/** The first issue, as a 400 naming its field. */
export function problemFromZod(error: unknown, root = 'body'): Error {
  const issue = issuesOf(error)[0];
  if (issue === undefined) return ApiError.badField(root, `${root} is invalid`);
  const field = fieldOf(issue.path, root);
  return ApiError.badField(field, /^[A-Z]/.test(issue.message) ? `${field}: ${issue.message}` : `${field} ${issue.message}`);
}

/**
 * nestjs-zod's pipe with our 400. Installed globally: it checks every @Body() and @Query() typed
 * with a zod DTO and leaves other parameters alone.
 */
export const ProblemValidationPipe = createZodValidationPipe({ createValidationException: (error) => problemFromZod(error) });

/** For what pipes never see (Nest runs no pipe on @Headers()): parse `value`, or 400 naming `field`. */
export function parseOrBadField<T extends ZodType>(schema: T, value: unknown, field: string): ReturnType<T['parse']> {
  const r = schema.safeParse(value);
  if (!r.success) throw problemFromZod(r.error, field);
  return r.data as ReturnType<T['parse']>;
}
