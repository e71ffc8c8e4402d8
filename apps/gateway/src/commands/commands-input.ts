import type { KvCommand } from '@app/consensus/kv';
import { ApiError } from '../http/api-error';
import { parseCommand, type KvLimits } from '../kv/kv-input';

export const MAX_COMMANDS = 1000;

/** `{"commands": [...]}`: 1 to 1000 commands, each checked as the REST call would check it. */
export function parseCommandsBody(body: unknown, limits: KvLimits): KvCommand[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.badField('body', 'body must be a JSON object {"commands": [...]}');
  const commands = (body as Record<string, unknown>).commands;
  if (!Array.isArray(commands)) throw ApiError.badField('commands', 'commands is required: an array of {"op","key",...}');
  if (commands.length === 0 || commands.length > MAX_COMMANDS) {
    throw ApiError.badField('commands', `commands must hold 1 to ${MAX_COMMANDS} commands, got ${commands.length}`);
  }
  return commands.map((c, i) => parseCommand(c, `commands[${i}]`, limits));
}
