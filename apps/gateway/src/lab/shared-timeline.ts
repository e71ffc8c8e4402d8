import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { LabEvents, type LabEventInput } from './lab-events';

/**
 * What people and scripts did (admin actions, scenario steps) reaches the timeline of every gateway
 * process, not only the one that carried it out: a page is connected to any of them
 * (GATEWAY_WORKERS). With more than one process each such event is published on the queue Redis
 * and every process records what it receives, its own included; when the publish fails, or no
 * process heard it, it is still recorded here, so a page on this process misses nothing. Events
 * derived from beacons need none of this: every process hears the beacons.
 */
@Injectable()
export class SharedTimeline implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SharedTimeline.name);
  private readonly channel: string;
  private readonly publisher: Redis | null = null;
  private readonly subscriber: Redis | null = null;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly events: LabEvents,
  ) {
    this.channel = `synod:${config.cluster}:lab:events`;
    if (config.workers <= 1) return;
    const options = { ...redisOptions(config.queueUrl).options, disconnectTimeout: 100 };
    this.publisher = new Redis({ ...options, enableOfflineQueue: false });
    this.subscriber = new Redis(options);
    for (const r of [this.publisher, this.subscriber]) r.on('error', () => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    const subscriber = this.subscriber;
    if (subscriber === null) return;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const event = parseShared(message);
      if (event !== null) this.events.record(event);
    });
    await subscriber.subscribe(this.channel).catch((err: Error) => this.logger.warn(`lab events from other gateway processes: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const r of [this.publisher, this.subscriber]) r?.disconnect();
  }

  share(event: LabEventInput): void {
    const publisher = this.publisher;
    if (publisher === null) return void this.events.record(event);
    publisher.publish(this.channel, JSON.stringify(event)).then(
      (receivers) => {
        if (receivers === 0) this.events.record(event); // nobody subscribed, ourselves included
      },
      () => this.events.record(event),
    );
  }
}

/** Only what other gateway processes send (the queue Redis needs the gateways' password), checked anyway: a page shows it. */
function parseShared(message: string): LabEventInput | null {
  try {
    const e = JSON.parse(message) as Partial<LabEventInput>;
    if (typeof e.kind !== 'string' || typeof e.text !== 'string' || (e.source !== 'admin' && e.source !== 'scenario')) return null;
    if (e.node !== undefined && typeof e.node !== 'string') return null;
    return e as LabEventInput;
  } catch {
    return null;
  }
}
