import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClusterDto } from './cluster.dto';
import { ClusterView } from './cluster-view';
import { presentCluster } from './present-cluster';

@ApiTags('cluster')
@Controller('v1/cluster')
export class ClusterController {
  constructor(private readonly view: ClusterView) {}

  @Get()
  @ApiOperation({ summary: 'Who leads, and every configured node as its beacons describe it' })
  @ApiOkResponse({ type: ClusterDto })
  cluster(): Record<string, unknown> {
    return presentCluster(this.view.snapshot());
  }
}
