import type { z } from 'zod';

/** A configuration that cannot run: every problem at once, each naming its variable, no secrets. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    /** Whose configuration: "gateway", "replica", "launcher". */
    readonly app?: string,
  ) {
    super(`invalid ${app ? `${app} ` : ''}configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * One line per issue. A piece's issue sits at its variable (path ["PORT"], message "must be …") and
 * reads "PORT must be …"; a rule across variables has no path and names them itself.
 */
export function problemsOf(issues: z.ZodError['issues']): string[] {
  return issues.map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')} ${i.message}` : i.message));
}

/** Parses `env` with an app's schema, or throws ConfigError listing every problem. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, app: string): z.output<S> {
  const r = schema.safeParse(env);
  if (!r.success) throw new ConfigError(problemsOf(r.error.issues), app);
  return r.data;
}
