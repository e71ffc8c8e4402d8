import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Bus, BusCounters, CLIENT_PRINCIPAL, FrameAuth, Frame } from '@app/bus';
import { redisOptions } from '@app/config';
import { BEACON_TOPIC, bodiesOf, loadBusKeys, METRICS_TOPIC, pbftAdminClientFor, pbftClientFor, pbftReplyTopic } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig, redact } from '../config/config';

/** Sending side of the bus as the consensus clients see it (a fake in unit tests). */
export interface FramePort {
  readonly self: string;
  send(to: string, body: unknown): void;
  /** Frames sent inside fn leave as one pipeline. */
  batch(fn: () => void): void;
}

/**
 * The gateway's endpoint on the bus: its own direct channel (replies) plus the beacon topic.
 * Frames are handed on by topic; nothing here knows what a reply means.
 */
@Injectable()
export class GatewayBus implements FramePort, OnModuleInit, OnApplicationShutdown {
  readonly self = `gw-${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('GatewayBus');
  private readonly bus: Bus;
  private readonly replyHandlers: Array<(from: string, body: unknown) => void> = [];
  private readonly beaconHandlers: Array<(body: unknown) => void> = [];
  private readonly metricsHandlers: Array<(from: string, body: unknown) => void> = [];

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    // A PBFT gateway also hears the replies addressed to its client identities (its own, and the
    // admin's it signs reconfigurations as). Replicas' metrics snapshots too, re-exposed on /metrics with a node label.
    const replies = [pbftReplyTopic(pbftClientFor(this.self)), pbftReplyTopic(pbftAdminClientFor(this.self))];
    const topics = config.protocol === 'pbft' ? [BEACON_TOPIC, METRICS_TOPIC, ...replies] : [BEACON_TOPIC, METRICS_TOPIC];
    // No home of its own: it listens on every replica's home Redis and reaches each replica through it.
    // Every frame is authenticated (libs/bus/src/auth.ts): the gateway speaks as the client principal.
    this.bus = new Bus({
      homes: config.busRoutes,
      redisOptions: (url) => redisOptions(url).options,
      cluster: config.cluster,
      self: this.self,
      topics,
      auth: { keys: loadBusKeys(config.keysDir, CLIENT_PRINCIPAL, [...config.nodes, CLIENT_PRINCIPAL]), replicas: config.nodes, verify: config.busVerify },
    });
    this.bus.onFrame((f) => this.route(f));
  }

  get counters(): Readonly<BusCounters> {
    return this.bus.counters;
  }

  /** The bus's authenticator: the control plane seals its commands with it. */
  get auth(): FrameAuth {
    return this.bus.auth;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.bus.start();
    } catch (err) {
      const homes = [...new Set(Object.values(this.config.busRoutes))].map(redact).join(', ');
      throw new Error(`cannot reach any bus Redis (${homes}): ${(err as Error).message}`, { cause: err });
    }
    this.logger.log(`on the bus as ${this.self} (cluster ${this.config.cluster})`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.stop();
  }

  onReply(handler: (from: string, body: unknown) => void): void {
    this.replyHandlers.push(handler);
  }

  onBeacon(handler: (body: unknown) => void): void {
    this.beaconHandlers.push(handler);
  }

  /** Replicas' metrics snapshots (topic `metrics`), with the sender's id. */
  onMetrics(handler: (from: string, body: unknown) => void): void {
    this.metricsHandlers.push(handler);
  }

  /** Whether a frame to replica `id` can go out now (the Redis that carries its inbox is connected). */
  reachable(id: string): boolean {
    return this.bus.reachable(id);
  }

  /** Whether replies and beacons can reach the gateway. */
  listening(): boolean {
    return this.bus.listening();
  }

  send(to: string, body: unknown): void {
    this.bus.send(to, body);
  }

  batch(fn: () => void): void {
    this.bus.batch(fn);
  }

  private route(frame: Frame): void {
    if (frame.topic === BEACON_TOPIC) {
      // A beacon speaks for its sender only: a replica's key cannot vouch for another replica.
      if ((frame.body as { id?: unknown } | null)?.id !== frame.from) return void this.counters.rejected.unknownSender++;
      for (const h of this.beaconHandlers) h(frame.body);
    } else if (frame.topic === METRICS_TOPIC) for (const h of this.metricsHandlers) h(frame.from, frame.body);
    else {
      // A replica's answers of one turn may share a frame (ManyBody): each is handed on alone.
      const bodies = bodiesOf(frame.body);
      if (bodies === null) return void this.bus.counters.malformed++;
      for (const body of bodies) for (const h of this.replyHandlers) h(frame.from, body);
    }
  }
}
