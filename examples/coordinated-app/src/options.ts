/** The example's settings, from the environment (main.ts). */
export interface ExampleOptions {
  /** This instance's name in the election. */
  instance: string;
  /** The election's name: the instances that share it elect one leader. */
  election: string;
  /** How long a dead leader keeps the role: its lease's TTL. */
  leaseSeconds: number;
  /** The configuration keys the instances follow. */
  configPrefix: string;
}

export const EXAMPLE_OPTIONS = Symbol('EXAMPLE_OPTIONS');
