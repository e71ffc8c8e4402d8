import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SynodClient } from '@app/client';
import { EXAMPLE_OPTIONS, type ExampleOptions } from './options';

/**
 * Configuration that reloads itself: every key under the prefix, read once (a page walk at one
 * revision per page) and then followed with a watch from the revision it was read at, so no
 * change between the two is missed and none is applied twice.
 */
@Injectable()
export class LiveConfigService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LiveConfig');
  private readonly stop = new AbortController();
  private readonly values = new Map<string, unknown>();
  /** The revision the configuration is current to. */
  revision = 0;

  constructor(
    private readonly synod: SynodClient,
    @Inject(EXAMPLE_OPTIONS) private readonly options: ExampleOptions,
  ) {}

  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.values].map(([k, v]) => [k.slice(this.options.configPrefix.length), v]));
  }

  onApplicationBootstrap(): void {
    void this.follow();
  }

  onApplicationShutdown(): void {
    this.stop.abort();
  }

  private async follow(): Promise<void> {
    const prefix = this.options.configPrefix;
    while (!this.stop.signal.aborted) {
      try {
        // The first page's revision is where the watch starts: later pages may be newer, and the
        // watch replays whatever changed after it, so the map ends up current either way.
        let after: string | undefined;
        let from = 0;
        this.values.clear();
        do {
          const page = await this.synod.page(prefix, { after, limit: 500 });
          if (from === 0) from = page.revision;
          for (const item of page.items) this.values.set(item.key, item.value);
          after = page.next ?? undefined;
        } while (after !== undefined);
        this.revision = from;
        this.logger.log(`loaded ${this.values.size} keys at revision ${from}`);
        for await (const e of this.synod.watch({ prefix }, { fromRevision: from + 1, signal: this.stop.signal })) {
          if (e.type === 'put') this.values.set(e.key, e.value);
          else this.values.delete(e.key);
          this.revision = e.revision;
          this.logger.log(`${e.type} ${e.key} (revision ${e.revision})`);
        }
      } catch (err) {
        if (this.stop.signal.aborted) return;
        // Compacted past us, or no gateway for the client's deadline: load again.
        this.logger.warn(`watch ended: ${(err as Error).message}; reloading`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
