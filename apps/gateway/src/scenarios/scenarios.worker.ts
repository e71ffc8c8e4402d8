import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Worker } from 'bullmq';
import { redisOptions } from '@app/config';
import { GATEWAY_CONFIG } from '../config/config.module';
import { type GatewayConfig, redact } from '../config/config';
import { queuePrefix, settledBeforeClose } from '../commands/commands.queue';
import { SCENARIOS_QUEUE, type ScenarioJobData } from './scenarios.queue';
import { ScenariosService } from './scenarios.service';

/**
 * Runs due steps in this process. Every gateway process runs one; BullMQ gives each job to one of
 * them, and the run's state is in Redis, so it does not matter which.
 */
@Injectable()
export class ScenariosWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ScenariosWorker');
  private worker: Worker<ScenarioJobData, void> | null = null;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly scenarios: ScenariosService,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<ScenarioJobData, void>(SCENARIOS_QUEUE, (job) => this.scenarios.runner.process(job.data), {
      // As commands.worker.ts: blocking commands wait out a Redis restart (BullMQ requires null).
      connection: { ...redisOptions(this.config.queueUrl).options, maxRetriesPerRequest: null, disconnectTimeout: 100 },
      prefix: queuePrefix(this.config),
      // Steps due together (a heal and the next fault) run together; a step waits for a leader at most seconds.
      concurrency: 8,
      drainDelay: 1,
      // A step whose process died mid-call is failed, not run again: a fault repeated late is a different scenario.
      maxStalledCount: 0,
    });
    this.worker.on('error', (err) => this.logger.warn(`worker Redis ${redact(this.config.queueUrl)}: ${err.message}`));
    this.worker.on('failed', (job, err) => this.logger.warn(`scenario job ${job?.id}: ${err.message}`));
  }

  // Forced, as the commands worker: a graceful close can hang on the blocking connection after a Redis restart.
  async onModuleDestroy(): Promise<void> {
    if (this.worker) await settledBeforeClose(this.worker);
    await this.worker?.close(true);
  }
}
