import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiConsensusErrors, ApiIdempotencyKey } from '../http/api-docs';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { KvService } from '../kv/kv.service';
import { CompactBodyDto, CompactResultDto } from './history.dto';

@ApiTags('watch')
@Controller('v1/compact')
export class CompactController {
  constructor(private readonly kv: KvService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Compact the history up to a revision (through the log, the same on every replica): reads in the past and watches from at or below it answer 410. A revision past the current one compacts up to the current one',
  })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: CompactResultDto })
  @ApiConsensusErrors()
  async compact(@Body() body: CompactBodyDto, @Headers('idempotency-key') idem: unknown): Promise<CompactResultDto> {
    const r = await this.kv.write({ op: 'compact', revision: body.revision }, parseIdempotencyKey(idem), requestFingerprint('POST', '/v1/compact', body));
    return { compactRevision: r.compactRevision, revision: r.revision };
  }
}
