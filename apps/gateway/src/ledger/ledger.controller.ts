import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblem } from '../http/api-docs';
import { BlocksQueryDto, LedgerBlocksDto, LedgerVerifyDto } from './ledger.dto';
import { LedgerService } from './ledger.service';

/** The verifiable ledger: the committed log as a hash chain (libs/consensus/src/ledger). */
@ApiTags('ledger')
@Controller('v1/ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Get('blocks')
  @ApiOperation({
    summary: 'Committed blocks from `from`, each with its hash and the hash before it; under PBFT with the checkpoint certificates that sign the chain head',
  })
  @ApiOkResponse({ type: LedgerBlocksDto })
  @ApiProblem(400, 'from or limit is not an integer in range (`field` names it)')
  @ApiProblem(410, 'The blocks from `from` were compacted away (`compactedThrough`)')
  @ApiProblem(503, 'No leader known, or no replica answered')
  blocks(@Query() q: BlocksQueryDto): Promise<LedgerBlocksDto> {
    return this.ledger.blocks(q.from, q.limit) as Promise<LedgerBlocksDto>;
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Every replica recomputes its chain from its stored log and compares it with what it recorded when applying; their hashes are compared at one index',
  })
  @ApiOkResponse({ type: LedgerVerifyDto })
  verify(): Promise<LedgerVerifyDto> {
    return this.ledger.verify();
  }
}
