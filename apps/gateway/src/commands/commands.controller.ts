import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from '../http/express';
import { ApiIdempotencyKey, ApiProblem } from '../http/api-docs';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { checkCommandBytes } from '../kv/kv-limits';
import { KvService } from '../kv/kv.service';
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
  @ApiAcceptedResponse({ type: JobAcceptedDto })
  @ApiProblem(400, 'Bad batch; `field` names the command and field, e.g. commands[3].value')
  @ApiProblem(413, 'A key or value over its limit (`field` names it), or body over BODY_LIMIT')
  @ApiProblem(422, 'The Idempotency-Key was already used for a different batch; nothing queued')
  @ApiProblem(503, 'The queue Redis is unreachable')
  async submit(@Body() body: CommandsBodyDto, @Headers('idempotency-key') idem: unknown, @Res({ passthrough: true }) res: Response): Promise<JobAcceptedDto> {
    const key = parseIdempotencyKey(idem);
    const commands = body.commands.map((c, i) => checkCommandBytes(c, this.kv.limits, `commands[${i}]`));
    const id = await this.commands.submit(commands, key, requestFingerprint('POST', '/v1/commands', body));
    res.location(`/v1/commands/${encodeURIComponent(id)}`);
    return { id };
  }

  @Get(':id')
  @ApiOperation({ summary: 'State of a queued batch, and its results once completed' })
  @ApiOkResponse({ type: JobDto })
  @ApiProblem(404, 'Unknown job (or expired: completed jobs are kept an hour)')
  @ApiProblem(503, 'The queue Redis is unreachable')
  status(@Param('id') id: string): Promise<CommandsJobView> {
    return this.commands.status(id);
  }
}
