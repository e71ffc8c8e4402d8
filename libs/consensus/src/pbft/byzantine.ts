import { kitFor } from './adversary/kit';
import { Knowledge } from './adversary/knowledge';
import { floodStrategy } from './adversary/flood';
import { impersonateStrategy } from './adversary/impersonate';
import { lieStatusStrategy } from './adversary/liar';
import { forgeNewViewStrategy } from './adversary/new-view';
import { slowVictimStrategy } from './adversary/slow-victim';
import { equivocateViewChangeStrategy, forgeViewChangeStrategy } from './adversary/view-change';
import { batchDigest, replyPayload, requestKey, sha256Hex, signingPayload } from './codec';
import type { ClientRequest, Commit, Forward, PbftMessage, PrePrepare, Prepare, ReplicaId, Reply } from './types';

/** The behaviours that act on the protocol (forge proofs, lie, flood, delay), not only filter the core's output. */
export const PROTOCOL_ATTACKS = ['forge-view-change', 'forge-new-view', 'equivocate-view-change', 'lie-status', 'flood', 'slow-victim', 'impersonate'] as const;

/**
 * Byzantine replicas for the simulator and the admin API's `byzantine` switch: a correct core
 * runs underneath, and its outgoing messages and replies go through one of these. Pure:
 * randomness comes from the context, and a behaviour signs only with the replica's own key.
 *
 * The first eight filter the core's output (drop, alter, repeat it). The rest act on the
 * protocol (pbft/adversary/): they remember what they see and forge from it — view-change and
 * new-view proofs, status and checkpoint claims, state-transfer answers, floods, selective delay.
 */
export const BYZANTINE_BEHAVIORS = [
  'silent',
  'equivocate',
  'wrong-digest',
  'forge',
  'replay',
  'stale-view',
  'withhold',
  'replay-requests',
  ...PROTOCOL_ATTACKS,
] as const;

export type ByzantineBehavior = (typeof BYZANTINE_BEHAVIORS)[number];

export function isByzantineBehavior(s: string): s is ByzantineBehavior {
  return (BYZANTINE_BEHAVIORS as readonly string[]).includes(s);
}

export interface ByzantineContext {
  id: ReplicaId;
  replicas: ReplicaId[];
  /** Signs as this replica: its own key, never another's. */
  sign(payload: Uint8Array): Uint8Array;
  random: () => number;
  /** Clients a withholding primary never orders (default: about half of them, by name). */
  withheld?: (client: string) => boolean;
  /** K and L of the cluster, when known (forged proofs then fit its water marks); else inferred from what is seen. */
  checkpointInterval?: number;
  logWindow?: number;
  /** The replica a slow-victim attack is aimed at (default: one drawn at random). */
  victim?: ReplicaId;
}

export interface ByzantineFilter {
  readonly behavior: ByzantineBehavior;
  /** The Byzantine version of a correct replica's outgoing messages (`to` may be expanded per recipient). */
  messages(out: PbftMessage[]): PbftMessage[];
  replies(out: Reply[]): Reply[];
  /** Sees each message the replica receives (what a behaviour may remember and misuse later). */
  observe?(incoming: PbftMessage): void;
}

function defaultWithheld(client: string): boolean {
  let h = 0;
  for (let i = 0; i < client.length; i++) h = (h * 31 + client.charCodeAt(i)) >>> 0;
  return h % 2 === 1;
}

/** A batch that differs from `requests` (reversed, or the null request), or null when none can. */
function otherBatch(requests: ClientRequest[]): ClientRequest[] | null {
  if (requests.length >= 2) return [...requests].reverse();
  if (requests.length === 1) return [];
  return null;
}

export function createByzantine(behavior: ByzantineBehavior, ctx: ByzantineContext): ByzantineFilter {
  const others = ctx.replicas.filter((r) => r !== ctx.id);
  const sign = <M extends PbftMessage>(m: M): M => {
    const copy = { ...m };
    return { ...copy, sig: ctx.sign(signingPayload(copy)) };
  };
  const recipients = (m: PbftMessage): ReplicaId[] => (m.to === null ? others : [m.to]);
  const pick = <T>(xs: T[]): T => xs[Math.floor(ctx.random() * xs.length)];
  const garbage = (): string => sha256Hex(`garbage:${ctx.id}:${ctx.random()}`);
  // Equivocation and withholding must tell the same story on every retransmission: remember
  // the batch each (view, seq) was rewritten to.
  const rewritten = new Map<string, PrePrepare | null>();
  const slotKey = (view: number, seq: number): string => `${view}:${seq}`;
  const secondHalf = new Set(others.slice(Math.ceil(others.length / 3)));
  const inGroupB = (r: ReplicaId): boolean => secondHalf.has(r);

  /**
   * A primary ordering another batch than its core chose, the same one on every retransmission:
   * `rebatch` gives the requests to order instead (null: unchanged), once per (view, seq), and
   * this replica's own votes follow the rewritten batch.
   */
  const rebatchOwn = (m: PbftMessage, rebatch: (pp: PrePrepare) => ClientRequest[] | null): PbftMessage => {
    if (m.type === 'PrePrepare' && m.from === ctx.id) {
      const key = slotKey(m.view, m.seq);
      if (!rewritten.has(key)) {
        const requests = rebatch(m);
        rewritten.set(key, requests === null ? null : sign({ ...m, requests, digest: batchDigest(requests) }));
      }
      return rewritten.get(key) ?? m;
    }
    if ((m.type === 'Prepare' || m.type === 'Commit') && m.from === ctx.id) {
      const variant = rewritten.get(slotKey(m.view, m.seq));
      return variant ? sign({ ...m, digest: variant.digest }) : m;
    }
    return m;
  };

  switch (behavior) {
    case 'silent':
      return { behavior, messages: () => [], replies: () => [] };

    case 'equivocate':
      return {
        behavior,
        messages(out) {
          const res: PbftMessage[] = [];
          for (const m of out) {
            if (m.type === 'PrePrepare' && m.from === ctx.id) {
              const key = slotKey(m.view, m.seq);
              if (!rewritten.has(key)) {
                const alt = otherBatch(m.requests);
                rewritten.set(key, alt === null ? null : sign({ ...m, requests: alt, digest: batchDigest(alt) }));
              }
              const variant = rewritten.get(key)!;
              for (const r of recipients(m)) {
                const pp = variant !== null && inGroupB(r) ? variant : m;
                res.push({ ...pp, to: r });
                // Back each story with this replica's own votes for it.
                res.push(sign<Prepare>({ type: 'Prepare', from: ctx.id, to: r, view: pp.view, seq: pp.seq, digest: pp.digest, sig: new Uint8Array() }));
                res.push(sign<Commit>({ type: 'Commit', from: ctx.id, to: r, view: pp.view, seq: pp.seq, digest: pp.digest, sig: new Uint8Array() }));
              }
            } else if (m.type === 'Prepare' || m.type === 'Commit') {
              const variant = rewritten.get(slotKey(m.view, m.seq));
              for (const r of recipients(m)) {
                if (!inGroupB(r)) res.push({ ...m, to: r });
                else if (variant !== undefined && variant !== null) res.push(sign({ ...m, to: r, digest: variant.digest }));
                else if (variant === undefined) res.push(sign({ ...m, to: r, digest: garbage() }));
                else res.push({ ...m, to: r });
              }
            } else res.push(m);
          }
          return res;
        },
        replies: (out) => out,
      };

    case 'wrong-digest':
      return {
        behavior,
        messages(out) {
          return out.map((m): PbftMessage => {
            switch (m.type) {
              case 'PrePrepare':
              case 'Prepare':
              case 'Commit':
              case 'Checkpoint':
                return sign({ ...m, digest: garbage() });
              case 'State': {
                const snapshot = m.snapshot.length > 0 ? m.snapshot.map((b, i) => (i === 0 ? b ^ 0xff : b)) : new Uint8Array([1, 2, 3]);
                return sign({ ...m, snapshot });
              }
              case 'Committed':
                return sign({ ...m, certificates: m.certificates.map((c) => ({ ...c, requests: otherBatch(c.requests) ?? c.requests, digest: c.digest })) });
              default:
                return m;
            }
          });
        },
        // Validly signed wrong results: only the client's f+1 rule stops them.
        replies: (out) =>
          out.map((r) => {
            const body = { ...r, result: new TextEncoder().encode(`wrong:${ctx.id}:${ctx.random()}`) };
            return { ...body, sig: ctx.sign(replyPayload(body)) };
          }),
      };

    case 'forge':
      return {
        behavior,
        messages(out) {
          const res: PbftMessage[] = [];
          for (const m of out) {
            // Claims another replica's identity (signed with its own key, so the signature fails) ...
            const victim = pick(others);
            res.push(sign({ ...m, from: victim }));
            // ... and sends its own messages with a signature that is not one.
            res.push({ ...m, sig: new Uint8Array(m.sig.length).map(() => Math.floor(ctx.random() * 256)) });
          }
          return res;
        },
        replies: (out) => out.map((r) => ({ ...r, from: pick(others) })),
      };

    case 'replay': {
      const past: PbftMessage[] = [];
      const pastReplies: Reply[] = [];
      return {
        behavior,
        messages(out) {
          const res = [...out];
          for (let i = 0; i < 2 && past.length > 0; i++) {
            const old = pick(past);
            res.push({ ...old, to: pick(others) });
          }
          for (const m of out) {
            past.push(m);
            if (past.length > 256) past.splice(0, past.length - 256);
          }
          return res;
        },
        replies(out) {
          const res = [...out];
          if (pastReplies.length > 0) res.push(pick(pastReplies));
          pastReplies.push(...out);
          if (pastReplies.length > 64) pastReplies.splice(0, pastReplies.length - 64);
          return res;
        },
      };
    }

    case 'stale-view':
      return {
        behavior,
        messages(out) {
          return out.map((m): PbftMessage => {
            if ((m.type === 'PrePrepare' || m.type === 'Prepare' || m.type === 'Commit') && m.view > 0) return sign({ ...m, view: m.view - 1 });
            if (m.type === 'ViewChange' && m.view > 1) return sign({ ...m, view: m.view - 1 });
            return m;
          });
        },
        replies: (out) => out,
      };

    case 'replay-requests': {
      // Requests ordered before (it saw their pre-prepares), oldest first: as primary it adds one to
      // each batch it orders; as backup it forwards one to the primary with every prepare it sends.
      // Exactly-once must hold anyway: the client table (C&L §4.1) refuses what was executed.
      const past: ClientRequest[] = [];
      const remember = (requests: ClientRequest[]): void => {
        for (const r of requests) if (!past.some((p) => requestKey(p) === requestKey(r))) past.push(r);
        if (past.length > 256) past.splice(0, past.length - 256);
      };
      const oldOne = (exclude: ClientRequest[]): ClientRequest | undefined => {
        const fresh = new Set(exclude.map(requestKey));
        const candidates = past.filter((r) => !fresh.has(requestKey(r)));
        return candidates.length > 0 ? pick(candidates) : undefined;
      };
      return {
        behavior,
        observe(m) {
          if (m.type === 'PrePrepare') remember(m.requests);
        },
        messages(out) {
          const res: PbftMessage[] = [];
          for (const m of out) {
            res.push(
              rebatchOwn(m, (pp) => {
                const old = oldOne(pp.requests);
                return old ? [...pp.requests, old] : null;
              }),
            );
            if (m.type === 'PrePrepare' && m.from === ctx.id) remember(m.requests);
            // As backup: an old request forwarded to the primary with each own prepare.
            if (m.type === 'Prepare' && m.from === ctx.id) {
              const old = oldOne([]);
              const primary = ctx.replicas[m.view % ctx.replicas.length];
              if (old && primary !== ctx.id)
                res.push(sign<Forward>({ type: 'Forward', from: ctx.id, to: primary, view: m.view, requests: [old], sig: new Uint8Array() }));
            }
          }
          return res;
        },
        replies: (out) => out,
      };
    }

    case 'withhold': {
      const withheld = ctx.withheld ?? defaultWithheld;
      return {
        behavior,
        messages: (out) =>
          out.map((m) =>
            rebatchOwn(m, (pp) => {
              const kept = pp.requests.filter((r) => !withheld(r.client));
              return kept.length === pp.requests.length ? null : kept;
            }),
          ),
        replies: (out) => out.filter((r) => !withheld(r.to)),
      };
    }

    default:
      return protocolAttack(behavior, ctx);
  }
}

/** The behaviours of pbft/adversary/, each with what it learns from the messages it sees. */
function protocolAttack(behavior: ByzantineBehavior, ctx: ByzantineContext): ByzantineFilter {
  const kit = kitFor(ctx);
  const know = new Knowledge(kit, ctx.checkpointInterval, ctx.logWindow);
  switch (behavior) {
    case 'forge-view-change':
      return forgeViewChangeStrategy(kit, know);
    case 'forge-new-view':
      return forgeNewViewStrategy(kit, know);
    case 'equivocate-view-change':
      return equivocateViewChangeStrategy(kit, know);
    case 'lie-status':
      return lieStatusStrategy(kit, know);
    case 'flood':
      return floodStrategy(kit, know);
    case 'slow-victim':
      return slowVictimStrategy(kit, know, ctx.victim);
    case 'impersonate':
      return impersonateStrategy(kit, know);
    default:
      throw new Error(`not a protocol attack: ${behavior}`);
  }
}
