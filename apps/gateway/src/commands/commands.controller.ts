import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from '../http/express';
import { ApiIdempotencyKey } from '../http/api-docs';
import { ErrorDto } from '../http/error.dto';
import { parseIdempotencyKey } from '../kv/kv-input';
import { KvService } from '../kv/kv.service';
import { parseCommandsBody } from './commands-input';
import { CommandsBodyDto, JobAcceptedDto, JobDto } from './commands.dto';
import { CommandsService, type CommandsJobView } from './commands.service';

@ApiTags('commands')
@Controller('v1/commands')
export class CommandsController {
  constructor(
    private readonly commands: CommandsService,
    private readonly kv: KvService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a batch of commands, run in order in the background, retried while there is no leader' })
  @ApiIdempotencyKey()
  @ApiBody({ type: CommandsBodyDto })
  @ApiAcceptedResponse({ type: JobAcceptedDto })
  @ApiResponse({ status: 400, description: 'Bad batch; `field` names the command and field', type: ErrorDto })
  @ApiResponse({ status: 413, description: 'A key or value over its limit, or body over BODY_LIMIT', type: ErrorDto })
  @ApiResponse({ status: 503, description: 'The queue Redis is unreachable', type: ErrorDto })
  async submit(@Body() body: unknown, @Headers('idempotency-key') idem: unknown, @Res({ passthrough: true }) res: Response): Promise<JobAcceptedDto> {
    const key = parseIdempotencyKey(idem);
    const id = await this.commands.submit(parseCommandsBody(body, this.kv.limits), key);
    res.location(`/v1/commands/${encodeURIComponent(id)}`);
    return { id };
  }

  @Get(':id')
  @ApiOperation({ summary: 'State of a queued batch, and its results once completed' })
  @ApiOkResponse({ type: JobDto })
  @ApiResponse({ status: 404, description: 'Unknown job (or expired: completed jobs are kept an hour)', type: ErrorDto })
  @ApiResponse({ status: 503, description: 'The queue Redis is unreachable', type: ErrorDto })
  status(@Param('id') id: string): Promise<CommandsJobView> {
    return this.commands.status(id);
  }
}
