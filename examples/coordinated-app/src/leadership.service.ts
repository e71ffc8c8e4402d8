import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SynodClient, type Leadership } from '@app/client';
import { EXAMPLE_OPTIONS, type ExampleOptions } from './options';

/**
 * One leader among the app's instances (for the jobs only one may run: a scheduler, a migration).
 * Each instance campaigns; the one elected holds it while its lease lives, and campaigns again
 * once it is lost. `fencingToken` (the leadership's revision) goes with everything the leader does
 * to shared resources, so a deposed leader that has not noticed yet is refused (see the README).
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Leadership');
  private readonly stop = new AbortController();
  private current: Leadership | null = null;

  constructor(
    private readonly synod: SynodClient,
    @Inject(EXAMPLE_OPTIONS) private readonly options: ExampleOptions,
  ) {}

  get isLeader(): boolean {
    return this.current !== null;
  }

  get fencingToken(): number | null {
    return this.current?.revision ?? null;
  }

  onApplicationBootstrap(): void {
    void this.campaignForever();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.current?.resign().catch(() => undefined);
  }

  private async campaignForever(): Promise<void> {
    const { election, instance, leaseSeconds } = this.options;
    while (!this.stop.signal.aborted) {
      try {
        const leadership = await this.synod.campaign(election, instance, { ttlSeconds: leaseSeconds, signal: this.stop.signal });
        this.current = leadership;
        this.logger.log(`elected leader of ${election} (fencing token ${leadership.revision})`);
        await leadership.lost;
        this.logger.warn('leadership lost');
      } catch (err) {
        if (!this.stop.signal.aborted) this.logger.warn(`campaign failed: ${(err as Error).message}; again shortly`);
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        this.current = null;
      }
    }
  }
}
