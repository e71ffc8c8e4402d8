import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../http/api-error';
import { ApiConsensusErrors, ApiIdempotencyKey, ApiProblem } from '../http/api-docs';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { parseOrBadField } from '../http/validation';
import { checkBytes, checkCommandBytes } from './kv-limits';
import { presentItem, presentResult } from './kv-responses';
import { CasBodyDto, CasResultDto, DeleteResultDto, ItemDto, KeySchema, ListQueryDto, ListResultDto, PutBodyDto, ReadQueryDto } from './kv.dto';
import { KvService } from './kv.service';

/** A key's path in its canonical spelling (percent-encoded one way), for fingerprints. */
const keyPath = (key: string): string => `/v1/kv/${encodeURIComponent(key)}`;

const KEY_PARAM = { name: 'key', description: 'The key, percent-encoded as one path segment (encodeURIComponent)' };
const TOO_LARGE = 'Key or value over its limit (`field` and `limit` name it), or body over BODY_LIMIT';

@ApiTags('kv')
@Controller('v1/kv')
export class KvController {
  constructor(private readonly kv: KvService) {}

  @Get()
  @ApiOperation({ summary: 'List keys by prefix, in key order, a page at a time (next page: after=<next>)' })
  @ApiOkResponse({ type: ListResultDto })
  @ApiProblem(413, 'prefix or after over MAX_KEY_BYTES')
  @ApiConsensusErrors()
  async list(@Query() q: ListQueryDto): Promise<ListResultDto> {
    checkBytes(q.prefix, 'prefix', this.kv.limits.maxKeyBytes);
    if (q.after !== undefined) checkBytes(q.after, 'after', this.kv.limits.maxKeyBytes);
    const page = await this.kv.list({ op: 'list', prefix: q.prefix, limit: q.limit, ...(q.after !== undefined ? { after: q.after } : {}) }, q.consistency);
    return { items: page.items.map(presentItem), next: page.next, revision: page.revision };
  }

  @Get(':key')
  @ApiOperation({ summary: 'Read one key, now or (revision=R) as it was at revision R' })
  @ApiParam(KEY_PARAM)
  @ApiOkResponse({ type: ItemDto })
  @ApiProblem(404, 'No such key (at that revision, when one is given)')
  @ApiProblem(410, 'The revision asked for is compacted away (`compactRevision`)')
  @ApiProblem(413, TOO_LARGE)
  @ApiConsensusErrors()
  async get(@Param('key') rawKey: string, @Query() q: ReadQueryDto): Promise<ItemDto> {
    const key = this.key(rawKey);
    const item = await this.kv.get(key, q.consistency, q.revision);
    if (item === null) throw ApiError.notFound('not found', { key });
    return presentItem(item);
  }

  @Put(':key')
  @ApiOperation({ summary: 'Write a key' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: ItemDto })
  @ApiProblem(413, TOO_LARGE)
  @ApiConsensusErrors()
  async put(@Param('key') rawKey: string, @Body() body: PutBodyDto, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const cmd = checkCommandBytes(
      { op: 'put', key: this.key(rawKey), value: body.value, ...(body.lease === undefined ? {} : { lease: body.lease }) },
      this.kv.limits,
    );
    return presentResult(await this.kv.write(cmd, idempotencyKey, requestFingerprint('PUT', keyPath(cmd.key), body)));
  }

  @Delete(':key')
  @ApiOperation({ summary: 'Delete a key (deleted: false when it was absent)' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: DeleteResultDto })
  @ApiProblem(413, TOO_LARGE)
  @ApiConsensusErrors()
  async delete(@Param('key') rawKey: string, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const key = this.key(rawKey);
    // A DELETE's body, if any, is not read: it is no part of the request.
    return presentResult(await this.kv.write({ op: 'delete', key }, idempotencyKey, requestFingerprint('DELETE', keyPath(key))));
  }

  @Post(':key/cas')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compare-and-swap: write value if the current value equals expected (null = absent)' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: CasResultDto })
  @ApiProblem(413, TOO_LARGE)
  @ApiConsensusErrors()
  async cas(@Param('key') rawKey: string, @Body() body: CasBodyDto, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const cmd = checkCommandBytes({ op: 'cas', key: this.key(rawKey), expected: body.expected, value: body.value }, this.kv.limits);
    return presentResult(await this.kv.write(cmd, idempotencyKey, requestFingerprint('POST', `${keyPath(cmd.key)}/cas`, body)));
  }

  /** The key from the URL path (Express has already percent-decoded it): the same schema as in a batch. */
  private key(raw: string): string {
    const key = parseOrBadField(KeySchema, raw, 'key');
    checkBytes(key, 'key', this.kv.limits.maxKeyBytes);
    return key;
  }
}
