import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { redisOptions } from '@app/config';
import { AdminService } from '../admin/admin.service';
import { SupervisorClient } from '../admin/supervisor-client';
import { ClusterView } from '../cluster/cluster-view';
import { queuePrefix, settledBeforeClose } from '../commands/commands.queue';
import { GATEWAY_CONFIG } from '../config/config.module';
import { type GatewayConfig, redact } from '../config/config';
import { ApiError } from '../http/api-error';
import type { LabScenarioInfo } from '../lab/lab-contract';
import { SharedTimeline } from '../lab/shared-timeline';
import { SCENARIOS } from './catalogue';
import { replicaStates, type ReplicaState } from './heal';
import { describeScheduled, planRun } from './plan';
import { isRedisUnavailable } from './redis-errors';
import { RunStore, type RunView } from './run-store';
import { inapplicable, ScenarioRunner } from './runner';
import { SCENARIOS_QUEUE, type ScenarioJobData } from './scenarios.queue';
import type { ClusterPicture } from './targets';

export interface ScenarioInfo extends LabScenarioInfo {
  requires: string[];
  applies: boolean;
  durationMs: number;
  steps: string[];
}

/** The scenario catalogue and runs of this cluster, for the REST routes and the fault lab. */
@Injectable()
export class ScenariosService implements OnApplicationShutdown {
  private readonly logger = new Logger('ScenariosService');
  readonly runner: ScenarioRunner;
  /** Run state and the queue; ours, as CommandsService's: no offline queue, so Redis away is a 503 now. */
  private readonly redis: Redis;
  private readonly queue: Queue<ScenarioJobData>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly view: ClusterView,
    private readonly processes: SupervisorClient,
    // The one way in for faults: a scenario can do nothing the admin API could not, checked and
    // put on the timeline the same way.
    admin: AdminService,
    // Global (LabModule); a gateway without the lab still runs scenarios, their events on no timeline.
    @Optional() timeline?: SharedTimeline,
  ) {
    const options = { ...redisOptions(config.queueUrl).options, disconnectTimeout: 100 };
    this.redis = new Redis({ ...options, enableOfflineQueue: false });
    this.redis.on('error', () => undefined); // reported through the queue's own 'error'
    this.queue = new Queue<ScenarioJobData>(SCENARIOS_QUEUE, { connection: this.redis, prefix: queuePrefix(config) });
    this.queue.on('error', (err) => this.logger.warn(`queue Redis ${redact(config.queueUrl)}: ${err.message}`));
    this.runner = new ScenarioRunner({
      store: new RunStore(this.redis, config.cluster),
      queue: this.queue,
      admin: () => admin,
      cluster: () => this.cluster(),
      protocol: config.protocol,
      supervisor: processes.present,
      timeline: (e) => timeline?.share(e),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await settledBeforeClose(this.queue);
    await this.queue.close().catch(() => undefined);
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  /** Every scenario, with whether it can run here and its steps for people. */
  list(): ScenarioInfo[] {
    const members = this.view.nodeIds.length;
    return SCENARIOS.map((s) => ({
      name: s.name,
      title: s.title,
      description: s.description,
      protocols: [...s.protocols],
      requires: [...s.requires],
      applies: inapplicable(s, this.config.protocol, this.processes.present) === null,
      durationMs: planRun(s, 1, members).end,
      steps: s.steps.map(describeScheduled),
    }));
  }

  /**
   * The fault lab's catalogue (LabHello.scenarios): the scenarios this gateway can carry out —
   * those needing the supervisor only where there is one — for either protocol; `protocols` says
   * which, as the contract has it.
   */
  catalogue(): LabScenarioInfo[] {
    return SCENARIOS.filter((s) => !s.requires.includes('supervisor') || this.processes.present).map((s) => ({
      name: s.name,
      title: s.title,
      description: s.description,
      protocols: [...s.protocols],
    }));
  }

  start(name: string, speed: number): Promise<RunView> {
    return this.unavailableOnError(() => this.runner.start(name, speed));
  }

  run(id: string): Promise<RunView> {
    return this.unavailableOnError(() => this.runner.view(id));
  }

  cancel(id: string): Promise<RunView> {
    return this.unavailableOnError(() => this.runner.cancel(id));
  }

  private cluster(): { picture: ClusterPicture; replicas: ReplicaState[] } {
    const snap = this.view.snapshot();
    const picture: ClusterPicture = { leader: snap.leader, members: [...this.view.nodeIds], usable: this.view.reachableNodes() };
    // Beacons' `cut` lists keep only configured replicas, never the replica itself (heal.ts: replicaStates).
    const replicas = replicaStates(snap.nodes, (id) => this.view.lastBeacon(id)?.lab?.cut, this.config.nodes);
    return { picture, replicas };
  }

  /** A Redis that cannot be reached is a 503 with Retry-After; anything else (a bug included) surfaces as it is. */
  private async unavailableOnError<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError || !isRedisUnavailable(err)) throw err;
      this.logger.warn(`scenarios: ${(err as Error).message}`);
      throw new ApiError(503, { error: 'the scenario runner is unavailable (its Redis cannot be reached); retry later' }, { 'Retry-After': '1' });
    }
  }
}
