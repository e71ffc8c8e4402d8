import { createHash } from 'node:crypto';
import type { PbftApp } from '../types';

/** A test operation: add `delta` to counter `key`, under request id `rid`. */
export interface CounterOp {
  rid: string;
  key: string;
  delta: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCounterOp(op: CounterOp): Uint8Array {
  return enc.encode(JSON.stringify(op));
}

/**
 * A small deterministic application for tests and the simulator: counters plus a table of
 * request ids already applied (so a retried id is exactly-once, as KvStateMachine does), and a
 * per-id count of applied effects so that a double application is visible.
 */
export class CounterApp implements PbftApp {
  private counters = new Map<string, number>();
  private results = new Map<string, string>();
  private effects = new Map<string, number>();
  /** Positions seen, in order (checks the core's strictly increasing position). */
  lastPosition = 0;
  positionErrors = 0;

  execute(position: number, op: Uint8Array): Uint8Array {
    if (position <= this.lastPosition) this.positionErrors++;
    this.lastPosition = position;
    let parsed: CounterOp;
    try {
      parsed = JSON.parse(dec.decode(op)) as CounterOp;
      if (typeof parsed.rid !== 'string' || typeof parsed.key !== 'string' || typeof parsed.delta !== 'number') throw new Error('shape');
    } catch {
      return enc.encode('error: bad op');
    }
    const first = this.results.get(parsed.rid);
    if (first !== undefined) return enc.encode(first);
    const value = (this.counters.get(parsed.key) ?? 0) + parsed.delta;
    this.counters.set(parsed.key, value);
    this.effects.set(parsed.rid, (this.effects.get(parsed.rid) ?? 0) + 1);
    const result = `${parsed.key}=${value}@${position}`;
    this.results.set(parsed.rid, result);
    return enc.encode(result);
  }

  value(key: string): number {
    return this.counters.get(key) ?? 0;
  }

  effectCount(rid: string): number {
    return this.effects.get(rid) ?? 0;
  }

  /** Ids applied more than once (must stay empty). */
  doubleApplied(): string[] {
    return [...this.effects].filter(([, n]) => n > 1).map(([id]) => id);
  }

  private canonical(): string {
    const sorted = <V>(m: Map<string, V>): [string, V][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return JSON.stringify({ c: sorted(this.counters), r: sorted(this.results), e: sorted(this.effects), p: this.lastPosition });
  }

  digest(): string {
    return createHash('sha256').update(this.canonical()).digest('hex');
  }

  snapshot(): Uint8Array {
    return enc.encode(this.canonical());
  }

  restore(data: Uint8Array): void {
    const s = JSON.parse(dec.decode(data)) as { c: [string, number][]; r: [string, string][]; e: [string, number][]; p: number };
    this.counters = new Map(s.c);
    this.results = new Map(s.r);
    this.effects = new Map(s.e);
    this.lastPosition = s.p;
  }
}
