import { Injectable } from '@nestjs/common';
import { TIMELINE_KEEP, type LabEvent } from './lab-contract';

export type LabEventInput = Omit<LabEvent, 'seq' | 'at'>;

/**
 * The fault lab's timeline in this gateway process: events derived from beacons (lab-state.ts),
 * admin actions (AdminService) and scenario runs are recorded here, kept for pages that connect
 * later, and handed to the open event streams.
 */
@Injectable()
export class LabEvents {
  private readonly kept: LabEvent[] = [];
  private readonly listeners = new Set<(e: LabEvent) => void>();
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  record(input: LabEventInput): LabEvent {
    const event: LabEvent = { seq: ++this.seq, at: this.now(), ...input };
    this.kept.push(event);
    if (this.kept.length > TIMELINE_KEEP) this.kept.splice(0, this.kept.length - TIMELINE_KEEP);
    for (const l of this.listeners) l(event);
    return event;
  }

  recent(limit = TIMELINE_KEEP): LabEvent[] {
    return this.kept.slice(-limit);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (e: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
