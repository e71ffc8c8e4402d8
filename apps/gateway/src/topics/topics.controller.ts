import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { TopicDelivery, TopicMessage } from '@app/consensus/kv';
import { ApiConsensusErrors, ApiIdempotencyKey, ApiProblem } from '../http/api-docs';
import { ApiError } from '../http/api-error';
import type { Request, Response } from '../http/express';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { parseOrBadField } from '../http/validation';
import { checkBytes } from '../kv/kv-limits';
import { KvService } from '../kv/kv.service';
import {
  AckBodyDto,
  AckResultDto,
  FetchQueryDto,
  FetchResultDto,
  NackBodyDto,
  NackResultDto,
  PublishBodyDto,
  PublishResultDto,
  TailQueryDto,
  TopicInfoDto,
  TopicNameSchema,
} from './topics.dto';
import { topicPath, TopicsService } from './topics.service';

const TOPIC_PARAM = { name: 'topic', description: 'The topic: 1 to 200 of A-Z a-z 0-9 . _ -' };

/** Messages a tail reads at a time, and how often it looks again when it is at the end. */
const TAIL_PAGE = 100;
const TAIL_POLL_MS = 100;
/** A comment line this often keeps an idle tail's connection (and proxies) awake. */
const TAIL_KEEPALIVE_MS = 15_000;
/** A tail reader this far behind is cut off (it reconnects with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Topics and consumer groups (issue 14): an append-only log per topic, consumer groups that lease
 * deliveries (at-least-once: ack, nack, visibility timeout, redelivery), and a tail for observers.
 * Everything that changes a topic or a group goes through the log; the offsets are linearizable reads.
 */
@ApiTags('topics')
@Controller('v1/topics')
export class TopicsController {
  constructor(
    private readonly topics: TopicsService,
    private readonly kv: KvService,
  ) {}

  @Post(':topic/messages')
  @HttpCode(200)
  @ApiOperation({ summary: 'Publish a message (a retry with the same Idempotency-Key publishes once and gets the first answer)' })
  @ApiParam(TOPIC_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: PublishResultDto })
  @ApiProblem(413, 'key, value or headers over its limit (MAX_KEY_BYTES, MAX_VALUE_BYTES), or body over BODY_LIMIT')
  @ApiConsensusErrors()
  async publish(@Param('topic') rawTopic: string, @Body() body: PublishBodyDto, @Headers('idempotency-key') idem: unknown): Promise<PublishResultDto> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const topic = topicName(rawTopic);
    if (body.key !== undefined) checkBytes(body.key, 'key', this.kv.limits.maxKeyBytes);
    checkBytes(body.value, 'value', this.kv.limits.maxValueBytes);
    if (body.headers !== undefined) checkBytes(JSON.stringify(body.headers), 'headers', this.kv.limits.maxValueBytes);
    const r = await this.kv.write(
      { op: 'topic-publish', topic, key: body.key ?? null, value: body.value, headers: body.headers ?? null, now: Date.now() },
      idempotencyKey,
      requestFingerprint('POST', `${topicPath(topic)}/messages`, body),
    );
    this.topics.changed(topic);
    return { topic: r.topic, id: r.id, offset: r.offset, revision: r.revision };
  }

  @Get(':topic/messages')
  @ApiOperation({
    summary:
      'Lease up to max messages to a consumer of the group for visibilityMs (long poll: waits up to waitMs for one). Ack each after handling it; unacknowledged, it is delivered again',
  })
  @ApiParam(TOPIC_PARAM)
  @ApiOkResponse({ type: FetchResultDto })
  @ApiConsensusErrors()
  async fetch(@Param('topic') rawTopic: string, @Query() q: FetchQueryDto, @Res({ passthrough: true }) res: Response): Promise<FetchResultDto> {
    const topic = topicName(rawTopic);
    let gone = false;
    const onClose = (): void => void (gone = !res.writableFinished);
    res.once('close', onClose);
    try {
      const messages = await this.topics.fetch({
        topic,
        group: q.group,
        consumer: q.consumer ?? `req-${randomUUID()}`,
        max: q.max,
        visibilityMs: q.visibilityMs,
        waitMs: q.waitMs,
        gone: () => gone,
      });
      // Leased to a reader that is no longer there: back to the group at once, not after visibilityMs.
      if (gone)
        this.topics.release(
          topic,
          q.group,
          messages.map((m) => m.id),
        );
      return { messages: messages.map(presentDelivery) };
    } finally {
      res.off('close', onClose);
    }
  }

  @Post(':topic/ack')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge deliveries: handled, never delivered to the group again' })
  @ApiParam(TOPIC_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: AckResultDto })
  @ApiConsensusErrors()
  async ack(@Param('topic') rawTopic: string, @Body() body: AckBodyDto, @Headers('idempotency-key') idem: unknown): Promise<AckResultDto> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const topic = topicName(rawTopic);
    const r = await this.kv.write(
      { op: 'topic-ack', topic, group: body.group, ids: body.ids },
      idempotencyKey,
      requestFingerprint('POST', `${topicPath(topic)}/ack`, body),
    );
    return { acked: r.acked, unknown: r.unknown };
  }

  @Post(':topic/nack')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand deliveries back to the group: delivered again after delayMs (the attempt counts; past the limit, to <topic>.dlq)' })
  @ApiParam(TOPIC_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: NackResultDto })
  @ApiConsensusErrors()
  async nack(@Param('topic') rawTopic: string, @Body() body: NackBodyDto, @Headers('idempotency-key') idem: unknown): Promise<NackResultDto> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const topic = topicName(rawTopic);
    const r = await this.kv.write(
      { op: 'topic-nack', topic, group: body.group, ids: body.ids, delayMs: body.delayMs ?? 0, now: Date.now() },
      idempotencyKey,
      requestFingerprint('POST', `${topicPath(topic)}/nack`, body),
    );
    if (r.nacked.length > 0 && (body.delayMs ?? 0) === 0) this.topics.changed(topic);
    return { nacked: r.nacked, unknown: r.unknown };
  }

  @Get(':topic')
  @ApiOperation({ summary: "A topic's offsets, and per consumer group its committed offset, lag and deliveries in flight (linearizable)" })
  @ApiParam(TOPIC_PARAM)
  @ApiOkResponse({ type: TopicInfoDto })
  @ApiProblem(404, 'No such topic (nothing was ever published to it)')
  @ApiConsensusErrors()
  async info(@Param('topic') rawTopic: string): Promise<TopicInfoDto> {
    const topic = topicName(rawTopic);
    const info = await this.topics.info(topic);
    if (info === null) throw ApiError.notFound(`topic ${JSON.stringify(topic)} does not exist`, { topic });
    return { topic: info.topic, startOffset: info.startOffset, endOffset: info.endOffset, groups: info.groups };
  }

  @Get(':topic/tail')
  @ApiOperation({
    summary:
      'Follow a topic as Server-Sent Events (observers: nothing is leased): `event: message`, `id: <offset>`, data {id, offset, key, value, headers}; from fromOffset (default: new messages only)',
  })
  @ApiParam(TOPIC_PARAM)
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this offset (what EventSource sends on a reconnect)' })
  @ApiResponse({ status: 200, description: 'The event stream' })
  @ApiConsensusErrors()
  async tail(
    @Param('topic') rawTopic: string,
    @Query() q: TailQueryDto,
    @Headers('last-event-id') lastEventId: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const topic = topicName(rawTopic);
    let from: number;
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId))
        throw ApiError.badField('Last-Event-ID', `Last-Event-ID must be an offset (an integer >= 0), got ${JSON.stringify(lastEventId)}`);
      from = Number(lastEventId) + 1;
    } else if (q.fromOffset !== undefined) {
      from = q.fromOffset;
    } else {
      from = (await this.topics.info(topic))?.endOffset ?? 0; // errors before the stream starts are problems
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    let closed = false;
    const end = (): void => {
      if (closed) return;
      closed = true;
      res.end();
    };
    req.socket.once('close', end);
    res.once('close', end);
    let lastWrite = Date.now();
    const write = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      lastWrite = Date.now();
      if (res.writableLength > MAX_BUFFERED_BYTES) end();
    };
    write(': tailing\n\n');
    while (!closed && !this.topics.closing) {
      let page: TopicMessage[];
      try {
        page = await this.topics.read(topic, from, TAIL_PAGE);
      } catch {
        // No leader for a moment: the stream waits (the client sees keepalives), it does not end.
        page = [];
        await sleep(TAIL_POLL_MS * 5);
      }
      if (closed) break;
      if (page.length > 0) {
        write(messageFrames(page));
        from = page[page.length - 1].offset + 1;
        continue;
      }
      if (Date.now() - lastWrite >= TAIL_KEEPALIVE_MS) write(': keepalive\n\n');
      await sleep(TAIL_POLL_MS);
    }
    end();
  }
}

/** The topic from the URL path (Express has percent-decoded it). */
function topicName(raw: string): string {
  return parseOrBadField(TopicNameSchema, raw, 'topic');
}

function presentDelivery(m: TopicDelivery): TopicDelivery {
  return { id: m.id, offset: m.offset, key: m.key, value: m.value, headers: m.headers, attempt: m.attempt };
}

/** SSE frames of a tail: `id` is the offset, so a reconnect with Last-Event-ID resumes after it. */
export function messageFrames(messages: readonly TopicMessage[]): string {
  let out = '';
  for (const m of messages) {
    const data = { id: m.id, offset: m.offset, key: m.key, value: m.value, headers: m.headers };
    out += `id: ${m.offset}\nevent: message\ndata: ${JSON.stringify(data)}\n\n`;
  }
  return out;
}
