import { ApiError } from './api-error';
import { fieldOf, parseOrBadField, problemFromZod } from './validation';
import { CommandsBodyDto } from '../commands/commands.dto';
import { ListQueryDto } from '../kv/kv.dto';
import { parseIdempotencyKey } from './idempotency-key';

const failure = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('did not throw');
};
const commands = (body: unknown): ApiError => failure(() => parseOrBadField(CommandsBodyDto.schema, body, 'body'));

describe('zod issues → 400 naming the field', () => {
  it('names fields the way the REST errors always have', () => {
    expect(fieldOf([], 'body')).toBe('body');
    expect(fieldOf(['value'], 'body')).toBe('value');
    expect(fieldOf(['commands', 3, 'value'], 'body')).toBe('commands[3].value');
    expect(fieldOf([0], 'body')).toBe('body[0]');
  });

  it('keeps the first issue, with the field in front of its words', () => {
    const e = commands({ commands: [{ op: 'put', key: '', value: 1 }] });
    expect(e.problem).toMatchObject({ status: 400, field: 'commands[0].key', detail: 'commands[0].key must not be empty' });
  });

  it('checks the batch as the REST calls are checked', () => {
    expect(commands([]).problem).toMatchObject({ field: 'body', detail: 'body must be a JSON object {"commands": [...]}' });
    expect(commands({}).problem).toMatchObject({ field: 'commands', detail: 'commands is required: an array of {"op","key",...}' });
    expect(commands({ commands: [] }).problem.detail).toBe('commands must hold 1 to 1000 commands, got 0');
    const many = Array.from({ length: 1001 }, () => ({ op: 'delete', key: 'a' }));
    expect(commands({ commands: many }).problem.detail).toBe('commands must hold 1 to 1000 commands, got 1001');
    expect(commands({ commands: [7] }).problem.detail).toBe('commands[0] must be a JSON object, got number');
    expect(commands({ commands: [{ key: 'a' }] }).problem.detail).toBe('commands[0].op must be "put", "delete" or "cas", got nothing');
    expect(commands({ commands: [{ op: 'cas', key: 'a', expected: '\u0000x', value: 'b' }] }).problem.detail).toBe(
      'commands[0].expected must be a JSON value or null',
    );
    expect(commands({ commands: [{ op: 'put', key: 'a', value: '\ud800' }] }).problem.detail).toBe(
      'commands[0].value must be well-formed UTF-16 (lone surrogate)',
    );
  });

  it('parses a good batch into commands, dropping stray members', () => {
    const body = parseOrBadField(CommandsBodyDto.schema, { commands: [{ op: 'cas', key: 'k', expected: null, value: 'v', extra: 1 }] }, 'body');
    expect(body).toEqual({ commands: [{ op: 'cas', key: 'k', expected: null, value: 'v' }] });
  });

  it('queries get their defaults, and "" counts as absent', () => {
    expect(parseOrBadField(ListQueryDto.schema, {}, 'query')).toEqual({ prefix: '', limit: 100, consistency: 'linearizable' });
    expect(parseOrBadField(ListQueryDto.schema, { limit: '', consistency: '' }, 'query')).toEqual({ prefix: '', limit: 100, consistency: 'linearizable' });
    expect(parseOrBadField(ListQueryDto.schema, { limit: '7', consistency: 'stale' }, 'query')).toMatchObject({ limit: 7, consistency: 'stale' });
    for (const limit of ['0', '1001', '-1', '1e3', ' 5', ['1', '2']]) {
      expect(failure(() => parseOrBadField(ListQueryDto.schema, { limit }, 'query')).problem.field).toBe('limit');
    }
  });

  it('Idempotency-Key: absent is fine, empty or too long is a 400', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('k-1')).toBe('k-1');
    expect(failure(() => parseIdempotencyKey('')).problem).toMatchObject({ field: 'Idempotency-Key', detail: 'Idempotency-Key must be a non-empty string' });
    expect(failure(() => parseIdempotencyKey('x'.repeat(201))).problem.detail).toBe('Idempotency-Key must be at most 200 characters');
  });

  it('something that is not a zod error still becomes a 400', () => {
    expect((problemFromZod(new Error('?')) as ApiError).problem).toMatchObject({ status: 400, field: 'body' });
  });
});
