import { applyDecorators, Body, Controller, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../http/api-error';
import { ErrorDto } from '../http/error.dto';
import { ByzantineBodyDto, ControlStatusDto } from './admin.dto';
import { AdminService, type KillMode } from './admin.service';
import { AdminTokenGuard } from './admin-token.guard';

const NODE = { name: 'id', description: 'A node id from NODES', example: 'n1' };

/** The answers every admin action can give besides its own. */
function AdminErrors(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiResponse({ status: 401, description: 'ADMIN_TOKEN is set and the bearer token is missing or wrong', type: ErrorDto }),
    ApiResponse({ status: 404, description: 'Unknown node', type: ErrorDto }),
    ApiResponse({ status: 502, description: 'The replica answered with an error', type: ErrorDto }),
    ApiResponse({ status: 504, description: "The replica's control plane did not answer in time", type: ErrorDto }),
  );
}

function parseMode(raw: unknown): KillMode {
  if (raw === undefined || raw === '' || raw === 'soft') return 'soft';
  if (raw === 'hard') return 'hard';
  throw ApiError.badField('mode', `mode must be "hard" (SIGKILL of the process) or absent, got ${JSON.stringify(raw)}`);
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@AdminErrors()
@Controller('v1/admin/nodes/:id')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Post('kill')
  @HttpCode(200)
  @ApiOperation({ summary: 'Crash a replica: it drops volatile state and stops taking part. mode=hard: SIGKILL its process (launcher only)' })
  @ApiParam(NODE)
  @ApiQuery({ name: 'mode', required: false, enum: ['hard'] })
  @ApiOkResponse({ type: ControlStatusDto })
  @ApiResponse({ status: 400, description: 'Bad mode', type: ErrorDto })
  @ApiResponse({ status: 501, description: 'mode=hard but no launcher supervisor answered', type: ErrorDto })
  kill(@Param('id') id: string, @Query('mode') mode: unknown): Promise<object> {
    return this.admin.kill(id, parseMode(mode));
  }

  @Post('revive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restart a replica from what Redis holds (respawns its process when the launcher has it down)' })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ControlStatusDto })
  revive(@Param('id') id: string): Promise<object> {
    return this.admin.revive(id);
  }

  @Post('isolate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cut a replica off from its peers (a network partition of one)' })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ControlStatusDto })
  isolate(@Param('id') id: string): Promise<unknown> {
    return this.admin.isolate(id);
  }

  @Post('heal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Undo isolate' })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ControlStatusDto })
  heal(@Param('id') id: string): Promise<unknown> {
    return this.admin.heal(id);
  }

  @Post('byzantine')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make a PBFT replica misbehave ("none" to stop); PBFT clusters only' })
  @ApiParam(NODE)
  @ApiBody({ type: ByzantineBodyDto })
  @ApiOkResponse({ type: ControlStatusDto })
  @ApiResponse({ status: 400, description: 'Unknown behavior, or the cluster does not run PBFT', type: ErrorDto })
  byzantine(@Param('id') id: string, @Body() body: unknown): Promise<unknown> {
    return this.admin.byzantine(id, body);
  }
}
