import type { ByzantineContext } from '../byzantine';
import { sha256Hex, signingPayload } from '../codec';
import type { PbftMessage, ReplicaId } from '../types';

/**
 * What every Byzantine strategy needs from its context: the cluster's shape, signing with this
 * replica's own key (never another's: a forged `from` is signed with the wrong key and so fails),
 * and seeded choices (the context's `random`, never Math.random, so a schedule replays).
 */
export interface Kit {
  readonly id: ReplicaId;
  readonly replicas: readonly ReplicaId[];
  readonly others: readonly ReplicaId[];
  readonly n: number;
  readonly f: number;
  primaryOf(view: number): ReplicaId;
  /** Re-signs `m` with this replica's key, whatever its `from` says. */
  sign<M extends PbftMessage>(m: M): M;
  /** Who a message goes to: its `to`, or every other replica for a broadcast. */
  recipients(m: PbftMessage): ReplicaId[];
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  /** An integer in [0, n). */
  below(n: number): number;
  /** A digest that names no state and no batch. */
  garbage(): string;
}

export function kitFor(ctx: ByzantineContext): Kit {
  const replicas = [...ctx.replicas];
  const others = replicas.filter((r) => r !== ctx.id);
  const n = replicas.length;
  return {
    id: ctx.id,
    replicas,
    others,
    n,
    f: Math.max(1, Math.floor((n - 1) / 3)),
    primaryOf: (view) => replicas[view % n],
    sign: <M extends PbftMessage>(m: M): M => ({ ...m, sig: ctx.sign(signingPayload(m)) }),
    recipients: (m) => (m.to === null ? others : [m.to]),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(ctx.random() * xs.length)],
    chance: (p) => ctx.random() < p,
    below: (n) => Math.floor(ctx.random() * Math.max(0, n)),
    garbage: () => sha256Hex(`garbage:${ctx.id}:${ctx.random()}`),
  };
}

/** An empty signature for a message about to be signed by Kit.sign. */
export const UNSIGNED = new Uint8Array();
