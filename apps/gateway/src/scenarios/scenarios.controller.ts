import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../admin/admin-token.guard';
import { ApiProblem } from '../http/api-docs';
import type { Response } from '../http/express';
import type { RunView } from './run-store';
import { RunDto, ScenarioInfoDto, StartRunBodyDto } from './scenarios.dto';
import { ScenariosService, type ScenarioInfo } from './scenarios.service';

const RUN = { name: 'id', description: 'A run id, as POST .../runs answered it' };

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiProblem(401, 'ADMIN_TOKEN is set and the bearer token is missing or wrong')
@Controller('v1/admin/scenarios')
export class ScenariosController {
  constructor(private readonly scenarios: ScenariosService) {}

  @Get()
  @ApiOperation({ summary: 'The fault scenarios: what each does, when, and whether it applies to this cluster' })
  @ApiOkResponse({ type: [ScenarioInfoDto] })
  list(): ScenarioInfo[] {
    return this.scenarios.list();
  }

  @Post(':name/runs')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a run: its steps are queued as delayed jobs and carried out through the admin API; it ends (or is cancelled) with a heal-all',
  })
  @ApiParam({ name: 'name', description: 'A scenario name from GET /v1/admin/scenarios', example: 'kill-leader' })
  @ApiAcceptedResponse({ type: RunDto })
  @ApiProblem(400, 'Bad speed')
  @ApiProblem(404, 'Unknown scenario')
  @ApiProblem(409, 'The scenario does not apply to this cluster (protocol, supervisor), or another run is in progress (`run` names it)')
  @ApiProblem(503, 'The queue Redis is unreachable')
  async start(@Param('name') name: string, @Body() body: StartRunBodyDto, @Res({ passthrough: true }) res: Response): Promise<RunView> {
    const run = await this.scenarios.start(name, body.speed);
    res.location(`/v1/admin/scenarios/runs/${encodeURIComponent(run.id)}`);
    return run;
  }

  @Get('runs/:id')
  @ApiOperation({ summary: 'A run: its state, each step with its resolved target and admin outcomes, and the closing heal' })
  @ApiParam(RUN)
  @ApiOkResponse({ type: RunDto })
  @ApiProblem(404, 'Unknown run (runs are kept a day after they end)')
  @ApiProblem(503, 'The queue Redis is unreachable')
  run(@Param('id') id: string): Promise<RunView> {
    return this.scenarios.run(id);
  }

  @Delete('runs/:id')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Cancel a run: steps not yet due are removed and its end is queued now: a step under way is waited for, then everything is healed. The answer waits for that (seconds at most) and shows the run `cancelled`, or still `cancelling` if the heal takes longer; cancelling a `cancelling` run queues its end again and answers the same way',
  })
  @ApiParam(RUN)
  @ApiOkResponse({ type: RunDto })
  @ApiProblem(404, 'Unknown run')
  @ApiProblem(409, 'The run is over or already ending')
  @ApiProblem(503, 'The queue Redis is unreachable')
  cancel(@Param('id') id: string): Promise<RunView> {
    return this.scenarios.cancel(id);
  }
}
