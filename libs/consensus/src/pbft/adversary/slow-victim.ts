import type { ByzantineFilter } from '../byzantine';
import type { PbftMessage, ReplicaId } from '../types';
import type { Kit } from './kit';
import type { Knowledge } from './knowledge';

/** Messages held back at most (the oldest are lost past it). */
const MAX_HELD = 4096;

/**
 * slow-victim: an Aardvark-style performance attack on one correct replica. Everything this
 * replica sends to the victim arrives `delay` status periods late (its own STATUS broadcasts
 * are the clock: the core sends one every status period, so the filter needs no timer); as
 * primary it also sends pre-prepares to f+1 backups only (never to the victim), the fewest that
 * still let a 4-replica cluster commit without them. The victim must still catch up, and the
 * cluster must still make progress (by a view change where f+1 are too few).
 */
export interface SlowVictimOptions {
  /** Status periods a message to the victim is held (default 1 to 4, drawn). */
  delay?: number;
  /** Pre-prepares to f+1 backups only (default: drawn, one time in two). */
  starve?: boolean;
}

export function slowVictimStrategy(kit: Kit, know: Knowledge, victim?: ReplicaId, opts: SlowVictimOptions = {}): ByzantineFilter {
  const target = victim ?? kit.pick(kit.others);
  const delay = opts.delay ?? 1 + kit.below(4);
  const starve = opts.starve ?? kit.chance(0.5);
  const fed = new Set(kit.others.filter((r) => r !== target).slice(0, kit.f + 1));
  const held: { at: number; m: PbftMessage }[] = [];
  let clock = 0;
  return {
    behavior: 'slow-victim',
    observe: (m) => know.see(m),
    messages(out) {
      for (const m of out) {
        know.see(m);
        if (m.type === 'Status' && m.from === kit.id) clock++;
      }
      const res: PbftMessage[] = [];
      while (held.length > 0 && held[0].at <= clock) res.push(held.shift()!.m);
      for (const m of out) {
        const starved = starve && m.type === 'PrePrepare' && m.from === kit.id;
        for (const r of kit.recipients(m)) {
          if (starved && !fed.has(r)) continue;
          if (r === target) held.push({ at: clock + delay, m: { ...m, to: r } });
          else res.push(m.to === r ? m : { ...m, to: r });
        }
      }
      if (held.length > MAX_HELD) held.splice(0, held.length - MAX_HELD);
      return res;
    },
    replies: (out) => out,
  };
}
