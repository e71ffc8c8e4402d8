import type { ReplicaId } from '../../pbft/types';
import type { Rng } from '../../util/rng';

/** Which copy of a Twins replica hears a message. */
export type TwinRoute = 'first' | 'second' | 'both';

/**
 * Twins (Bano et al., "Twins: BFT Systems Made Robust", 2022): one faulty identity run as two
 * correct replicas that share its key. Each copy sits mostly in its own part of the network —
 * every other replica is heard mostly by one copy — so the two build different states and then
 * say different things, all correctly signed: equivocation in pre-prepares, votes, checkpoints,
 * view-changes and new-views without a line of attack code. Client requests reach both copies
 * (as primary both then order them, each its own way).
 */
export class TwinRouter {
  private readonly side = new Map<string, 'first' | 'second'>();

  constructor(
    private readonly rng: Rng,
    replicas: readonly ReplicaId[],
  ) {
    for (const r of replicas) this.side.set(r, rng.next() < 0.5 ? 'first' : 'second');
  }

  /** Where a message from `from` (a replica, or a client: not in the map) goes. */
  route(from: string): TwinRoute {
    const side = this.side.get(from);
    if (side === undefined) return 'both';
    const r = this.rng.next();
    if (r < 0.15) return 'both';
    // Some cross-talk, so that neither copy is cut off for good.
    if (r < 0.25) return side === 'first' ? 'second' : 'first';
    return side;
  }
}
