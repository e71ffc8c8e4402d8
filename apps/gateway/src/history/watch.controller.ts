import { Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { KvEvent } from '@app/consensus/kv';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import type { Request, Response } from '../http/express';
import { ApiConsensusErrors, ApiProblem } from '../http/api-docs';
import { ApiError } from '../http/api-error';
import { checkBytes } from '../kv/kv-limits';
import { KvService } from '../kv/kv.service';
import { ChangeFeed, type WatchFilter, type Watcher } from './change-feed';
import { WatchQueryDto } from './history.dto';
import { changeFrames, compactedFrame, progressFrame } from './sse';

/** A consumer this far behind is cut off (it reconnects with Last-Event-ID and catches up from the history). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

@ApiTags('watch')
@Controller('v1/watch')
export class WatchController {
  constructor(
    private readonly feed: ChangeFeed,
    private readonly kv: KvService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Watch changes as Server-Sent Events: `event: put|delete`, `id: <revision>`, data {key, value, revision, prevValue?}; `event: progress` at least every WATCH_PROGRESS_MS while idle; every change once, in revision order',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this revision (what EventSource sends on a reconnect)' })
  @ApiResponse({ status: 200, description: 'The event stream' })
  @ApiProblem(410, 'The start revision is compacted away (`compactRevision`)')
  @ApiConsensusErrors()
  async watch(@Query() q: WatchQueryDto, @Headers('last-event-id') lastEventId: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const filter = this.filter(q);
    const resumed = typeof lastEventId === 'string' && lastEventId !== '';
    const after = resumeAfter(lastEventId, q.fromRevision);
    // A client gone while the first read is out is not followed (its close came before we listened).
    let gone = false;
    const onEarlyClose = (): void => void (gone = true);
    req.once('close', onEarlyClose);
    const first = await this.feed.start(filter, after);
    req.off('close', onEarlyClose);
    if (gone) return;
    // Named as the client asked: a Last-Event-ID resumes after it, fromRevision starts at it.
    const [revision, field] = resumed ? [after ?? 0, 'Last-Event-ID'] : [q.fromRevision ?? 0, 'fromRevision'];
    if ('compacted' in first) throw ApiError.compacted(revision, first.compacted, field);
    if ('future' in first) throw ApiError.badField(field, `${field} ${revision} is in the future: the store is at revision ${first.future}`);

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    let lastWrite = Date.now();
    const write = (chunk: string): void => {
      if (w.closed) return;
      res.write(chunk);
      lastWrite = Date.now();
      if (res.writableLength > MAX_BUFFERED_BYTES) w.end();
    };
    const progress = setInterval(
      () => {
        if (Date.now() - lastWrite >= this.config.watchProgressMs) write(progressFrame(w.after));
      },
      Math.max(50, Math.floor(this.config.watchProgressMs / 4)),
    );
    const w: Watcher & { closed: boolean } = {
      filter,
      after: first.after,
      closed: false,
      deliver: (events: KvEvent[]) => {
        write(changeFrames(events));
        w.after = Math.max(w.after, events[events.length - 1].revision);
      },
      compacted: (compactRevision: number) => {
        write(compactedFrame(compactRevision));
        w.end();
      },
      end: () => {
        if (w.closed) return;
        w.closed = true;
        clearInterval(progress);
        this.feed.forget(w);
        res.end();
      },
    };
    req.on('close', w.end);
    // The first page, then a progress at its end (the resume point, so after the changes it
    // covers), then what follows: each change once, the watcher's `after` only grows.
    if (first.events.length > 0) write(changeFrames(first.events));
    write(progressFrame(w.after));
    void this.feed.follow(w);
  }

  private filter(q: WatchQueryDto): WatchFilter {
    if (q.key !== undefined && q.prefix !== undefined) throw ApiError.badField('key', 'give key or prefix, not both');
    if (q.key !== undefined) {
      checkBytes(q.key, 'key', this.kv.limits.maxKeyBytes);
      return { key: q.key };
    }
    checkBytes(q.prefix ?? '', 'prefix', this.kv.limits.maxKeyBytes);
    return { prefix: q.prefix ?? '' };
  }
}

/** Last-Event-ID (a reconnect) wins over fromRevision; null: from now. */
function resumeAfter(lastEventId: unknown, fromRevision: number | undefined): number | null {
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (!/^\d{1,15}$/.test(lastEventId))
      throw ApiError.badField('Last-Event-ID', `Last-Event-ID must be a revision (an integer >= 0), got ${JSON.stringify(lastEventId)}`);
    return Number(lastEventId);
  }
  return fromRevision === undefined ? null : Math.max(0, fromRevision - 1);
}
