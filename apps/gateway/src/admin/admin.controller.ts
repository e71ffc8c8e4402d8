import { applyDecorators, Body, Controller, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblem } from '../http/api-docs';
import { ByzantineBodyDto, ControlStatusDto, KillQueryDto, ProcessStatusDto } from './admin.dto';
import { AdminService } from './admin.service';
import { AdminTokenGuard } from './admin-token.guard';

const NODE = { name: 'id', description: 'A node id from NODES', example: 'n1' };

/** The answers every admin action can give besides its own. */
function AdminErrors(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiProblem(401, 'ADMIN_TOKEN is set and the bearer token is missing or wrong'),
    ApiProblem(404, 'Unknown node'),
    ApiProblem(502, "The replica answered with an error, or the supervisor refused the gateway's SUPERVISOR_TOKEN"),
    ApiProblem(504, "The replica's control plane (or the supervisor) did not answer in time; the action may have happened"),
  );
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
  @ApiOkResponse({ type: ControlStatusDto })
  @ApiProblem(400, 'Bad mode')
  @ApiProblem(501, 'mode=hard but no launcher supervisor is configured')
  kill(@Param('id') id: string, @Query() q: KillQueryDto): Promise<object> {
    return this.admin.kill(id, q.mode);
  }

  @Post('revive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restart a replica from what Redis holds (respawns its process when the launcher has it down)' })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ControlStatusDto })
  revive(@Param('id') id: string): Promise<object> {
    return this.admin.revive(id);
  }

  @Post('storage/kill')
  @HttpCode(200)
  @ApiOperation({ summary: "SIGKILL the replica's own Redis (its log and bus inbox); it stays down until storage/restart (launcher only)" })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ProcessStatusDto })
  @ApiProblem(409, 'The cluster runs on one shared Redis: there is no per-replica Redis to kill')
  @ApiProblem(501, 'No launcher supervisor is configured')
  storageKill(@Param('id') id: string): Promise<object> {
    return this.admin.storage(id, 'kill');
  }

  @Post('storage/restart')
  @HttpCode(200)
  @ApiOperation({ summary: "Start the replica's own Redis again (SIGKILL first when it runs); it replays its AOF (launcher only)" })
  @ApiParam(NODE)
  @ApiOkResponse({ type: ProcessStatusDto })
  @ApiProblem(409, 'The cluster runs on one shared Redis: there is no per-replica Redis to restart')
  @ApiProblem(501, 'No launcher supervisor is configured')
  storageRestart(@Param('id') id: string): Promise<object> {
    return this.admin.storage(id, 'restart');
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
  @ApiOkResponse({ type: ControlStatusDto })
  @ApiProblem(400, 'Unknown behavior, or the cluster does not run PBFT')
  byzantine(@Param('id') id: string, @Body() body: ByzantineBodyDto): Promise<unknown> {
    return this.admin.byzantine(id, body.behavior);
  }
}

const LINK_END = { description: 'A node id from NODES, one end of the link', example: 'n1' };

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@AdminErrors()
@Controller('v1/admin/links/:a/:b')
export class AdminLinksController {
  constructor(private readonly admin: AdminService) {}

  @Post('cut')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cut the link between two replicas (a partition between them, both ways); each keeps its other links' })
  @ApiParam({ name: 'a', ...LINK_END })
  @ApiParam({ name: 'b', ...LINK_END, example: 'n2' })
  @ApiProblem(400, 'Both ends are the same replica')
  cut(@Param('a') a: string, @Param('b') b: string): Promise<object> {
    return this.admin.cutLink(a, b);
  }

  @Post('heal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Undo cut for the link between two replicas' })
  @ApiParam({ name: 'a', ...LINK_END })
  @ApiParam({ name: 'b', ...LINK_END, example: 'n2' })
  @ApiProblem(400, 'Both ends are the same replica')
  heal(@Param('a') a: string, @Param('b') b: string): Promise<object> {
    return this.admin.healLink(a, b);
  }
}
