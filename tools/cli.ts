import { parseArgs } from 'node:util';

/**
 * The tools' command lines (sim, bench, chaos) on `node:util` parseArgs, with one behaviour:
 * `--flag value` and `--flag=value` both work, `--help`/`-h` prints the usage and exits 0, and a
 * bad command line prints one line saying what is wrong, then the usage, and exits 2.
 */

/** A bad command line: `message` is one line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` was asked for. */
export class HelpRequested extends Error {
  constructor() {
    super('help');
    this.name = 'HelpRequested';
  }
}

export type Values = Record<string, string | undefined>;

/** Every flag takes a value (the tools have no switches besides --help); the last one given wins. */
export function parseFlags(argv: string[], flags: readonly string[]): Values {
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const f of flags) options[f] = { type: 'string' };
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(reword(err));
  }
  if (values.help === true) throw new HelpRequested();
  delete values.help;
  return values as Values;
}

// parseArgs' messages are long and name the option as '--x <value>': say it the short way.
function reword(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /--[\w-]+/.exec(message)?.[0] ?? /'([^' ]+)/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(message) ? `${quoted} takes no value` : `${quoted} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted} (every option is --name value)`;
    default:
      return message.split('\n')[0];
  }
}

/** An integer option: absent → `dflt`; otherwise an integer within [min, max]. */
export function intFlag(values: Values, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} takes an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`}, got "${v}"`);
  }
  return n;
}

/** A number option (fractions allowed): absent → `dflt`; otherwise a finite number >= min. */
export function numberFlag(values: Values, name: string, dflt: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`--${name} takes a number >= ${min}, got "${v}"`);
  return n;
}

/** An option from a fixed list: absent → `dflt`. */
export function choiceFlag<T extends string>(values: Values, name: string, choices: readonly T[], dflt: T): T {
  const v = values[name];
  if (v === undefined) return dflt;
  if (!(choices as readonly string[]).includes(v)) {
    const list = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices[0];
    throw new UsageError(`--${name} must be ${list}, got "${v}"`);
  }
  return v as T;
}

/**
 * What to exit with for a usage problem: 0 after printing the usage for --help, 2 after a one-line
 * reason and the usage; null when `err` is something else (a real failure, the caller's to report).
 */
export function usageExitCode(err: unknown, tool: string, usage: string): 0 | 2 | null {
  if (err instanceof HelpRequested) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`${tool}: ${err.message}\n${usage}\n`);
    return 2;
  }
  return null;
}
