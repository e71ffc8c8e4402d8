import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../http/api-error';
import { ApiConsensusErrors, ApiIdempotencyKey } from '../http/api-docs';
import { ErrorDto } from '../http/error.dto';
import { parseCas, parseConsistency, parseDelete, parseIdempotencyKey, parseKey, parseListQuery, parsePut } from './kv-input';
import { presentItem, presentResult } from './kv-responses';
import { CasBodyDto, CasResultDto, DeleteResultDto, ItemDto, ListResultDto, NotFoundDto, PutBodyDto } from './kv.dto';
import { KvService } from './kv.service';

const KEY_PARAM = { name: 'key', description: 'The key, percent-encoded as one path segment (encodeURIComponent)' };
const TOO_LARGE = { status: 413, description: 'Key or value over its limit (`field` names it), or body over BODY_LIMIT', type: ErrorDto };

@ApiTags('kv')
@Controller('v1/kv')
export class KvController {
  constructor(private readonly kv: KvService) {}

  @Get()
  @ApiOperation({ summary: 'List keys by prefix, in key order' })
  @ApiQuery({ name: 'prefix', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiQuery({ name: 'consistency', required: false, enum: ['linearizable', 'stale'] })
  @ApiOkResponse({ type: ListResultDto })
  @ApiConsensusErrors()
  async list(@Query('prefix') prefix: unknown, @Query('limit') limit: unknown, @Query('consistency') consistency: unknown): Promise<ListResultDto> {
    const query = parseListQuery(prefix, limit, this.kv.limits);
    const items = await this.kv.list(query, parseConsistency(consistency));
    return { items: items.map(presentItem) };
  }

  @Get(':key')
  @ApiOperation({ summary: 'Read one key' })
  @ApiParam(KEY_PARAM)
  @ApiQuery({ name: 'consistency', required: false, enum: ['linearizable', 'stale'], description: 'linearizable (default): through the leader; stale: any alive replica' })
  @ApiOkResponse({ type: ItemDto })
  @ApiResponse({ status: 404, description: 'No such key', type: NotFoundDto })
  @ApiResponse(TOO_LARGE)
  @ApiConsensusErrors()
  async get(@Param('key') rawKey: string, @Query('consistency') consistency: unknown): Promise<ItemDto> {
    const key = parseKey(rawKey, this.kv.limits);
    const item = await this.kv.get(key, parseConsistency(consistency));
    if (item === null) throw ApiError.notFound('not found', { key });
    return presentItem(item);
  }

  @Put(':key')
  @ApiOperation({ summary: 'Write a key' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiBody({ type: PutBodyDto })
  @ApiOkResponse({ type: ItemDto })
  @ApiResponse(TOO_LARGE)
  @ApiConsensusErrors()
  async put(@Param('key') key: string, @Body() body: unknown, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const id = parseIdempotencyKey(idem);
    return presentResult(await this.kv.execute(parsePut(key, body, this.kv.limits), id));
  }

  @Delete(':key')
  @ApiOperation({ summary: 'Delete a key (deleted: false when it was absent)' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: DeleteResultDto })
  @ApiResponse(TOO_LARGE)
  @ApiConsensusErrors()
  async delete(@Param('key') key: string, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const id = parseIdempotencyKey(idem);
    return presentResult(await this.kv.execute(parseDelete(key, this.kv.limits), id));
  }

  @Post(':key/cas')
  @HttpCode(200)
  @ApiOperation({ summary: 'Compare-and-swap: write value if the current value equals expected (null = absent)' })
  @ApiParam(KEY_PARAM)
  @ApiIdempotencyKey()
  @ApiBody({ type: CasBodyDto })
  @ApiOkResponse({ type: CasResultDto })
  @ApiResponse(TOO_LARGE)
  @ApiConsensusErrors()
  async cas(@Param('key') key: string, @Body() body: unknown, @Headers('idempotency-key') idem: unknown): Promise<unknown> {
    const id = parseIdempotencyKey(idem);
    return presentResult(await this.kv.execute(parseCas(key, body, this.kv.limits), id));
  }
}
