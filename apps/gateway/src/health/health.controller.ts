import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { GatewayBus } from '../bus/gateway-bus';
import { ClusterView } from '../cluster/cluster-view';
import type { Response } from '../http/express';
import { LiveDto, ReadinessDto } from './health.dto';
import { assessReadiness } from './readiness';

/**
 * Liveness (the process serves HTTP: restart it if not) apart from readiness (a request sent now
 * can be ordered: send traffic only if so). An unready gateway answers 503 with every check.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly view: ClusterView,
    private readonly bus: GatewayBus,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The gateway process serves HTTP' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'live', pid: process.pid };
  }

  @Get('ready')
  @ApiOperation({ summary: 'A leader/primary is known, a quorum of replicas is reachable, and the bus is up' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiResponse({ status: 503, type: ReadinessDto, description: 'Not ready; `checks` says which check failed' })
  ready(@Res({ passthrough: true }) res: Response): ReadinessDto {
    const r = assessReadiness(this.view, this.bus.listening());
    res.status(r.status === 'ready' ? 200 : 503);
    return r;
  }

  /** Kept as an honest alias of /health/ready for existing probes: the same answer, the same status. */
  @Get()
  @ApiOperation({ summary: 'Same as /health/ready' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready' })
  @ApiResponse({ status: 503, type: ReadinessDto, description: 'Not ready; `checks` says which check failed' })
  health(@Res({ passthrough: true }) res: Response): ReadinessDto {
    return this.ready(res);
  }
}
