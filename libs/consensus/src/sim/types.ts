/** What every protocol's simulator returns for one seeded schedule. */
export interface SeedOutcome {
  seed: number;
  /** Empty when every invariant held after every step. */
  violations: string[];
  /** Human-readable event log, filled only when asked for (replay with --seed). */
  trace: string[];
}

export interface ScheduleOptions {
  /** Record a readable trace. */
  trace?: boolean;
  /** Name of a deliberately broken variant to run (see each protocol's canaries). */
  canary?: string;
}

export type ScheduleRunner = (seed: number, opts: ScheduleOptions) => SeedOutcome;
