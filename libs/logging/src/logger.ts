import { pino, stdSerializers, type LevelWithSilent, type Logger } from 'pino';
import { scrubUrls } from './scrub';

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class LogLevelError extends Error {
  constructor(raw: string) {
    super(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
    this.name = 'LogLevelError';
  }
}

/** LOG_LEVEL from the environment (default info); a value pino does not know is an error, not a guess. */
export function logLevel(env: Record<string, string | undefined> = process.env): LevelWithSilent {
  const raw = env.LOG_LEVEL?.trim().toLowerCase() ?? '';
  if (raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new LogLevelError(env.LOG_LEVEL ?? '');
  return raw as LevelWithSilent;
}

/**
 * Nest's start-up chatter: one line per module (InstanceLoader) and per route (RoutesResolver,
 * RouterExplorer), ~40 lines that say nothing an operator acts on, and the Redis control transport's
 * "Connected to Redis" twice per replica (Server). Logged at debug instead of info, so LOG_LEVEL=debug
 * still shows them; their warnings and errors keep their level.
 */
const BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice', 'Server']);
const INFO = 30;

export interface CreateLoggerOptions {
  /** `gateway`, `node`, ...: the `service` field of every line. */
  service: string;
  level?: LevelWithSilent;
  /** Fields on every line, e.g. `{ node: 'n1' }`. */
  bindings?: Record<string, string>;
  /** Where lines go (tests); default stdout. */
  destination?: pino.DestinationStream;
}

/**
 * The one pino logger of a process: JSON lines (never colours: a pipe or a log shipper reads
 * them), ISO time, the level as a word, secrets never written (the Authorization header and cookies
 * by path, passwords inside URLs wherever they appear in a message or an error).
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, pid: process.pid, ...opts.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'], censor: '***' },
      serializers: { err: scrubError },
      hooks: {
        logMethod(args, method, level) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrubUrls(args[i] as string);
          const first = args[0] as unknown;
          if (level === INFO && typeof first === 'object' && first !== null && BOOT_CONTEXTS.has((first as { context?: string }).context ?? '')) {
            return this.debug(...(args as [object, string]));
          }
          return method.apply(this, args);
        },
      },
    },
    opts.destination,
  );
}

function scrubError(err: Error): ReturnType<typeof stdSerializers.err> {
  const out = stdSerializers.err(err);
  if (typeof out.message === 'string') out.message = scrubUrls(out.message);
  if (typeof out.stack === 'string') out.stack = scrubUrls(out.stack);
  return out;
}
