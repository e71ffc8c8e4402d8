import type Redis from 'ioredis';
import type { LabEventInput } from '../lab/lab-events';

/**
 * Scenario events reach the timeline of every gateway process, not only the one whose worker ran
 * the step: a page is connected to any of them (GATEWAY_WORKERS). Each event is published on the
 * queue Redis and every process records what it receives, its own included; when the publish
 * fails the event is still recorded here, so a page on this process misses nothing.
 */
export class ScenarioTimeline {
  private record: ((e: LabEventInput) => void) | null = null;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {}

  /** Starts taking the cluster's scenario events into `record` (LabEvents.record). */
  async attach(record: (e: LabEventInput) => void): Promise<void> {
    this.record = record;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const { event } = JSON.parse(message) as { event: LabEventInput };
        this.record?.(event);
      } catch {
        /* not ours */
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  emit(event: LabEventInput): void {
    this.publisher.publish(this.channel, JSON.stringify({ event })).then(
      (receivers) => {
        // Nobody subscribed, ourselves included (our subscription is down): record it here at least.
        if (receivers === 0) this.record?.(event);
      },
      () => this.record?.(event),
    );
  }
}
