import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ClusterView } from '../cluster/cluster-view';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The leader/primary the gateway would forward to now' }) leader!: string | null;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly view: ClusterView) {}

  @Get()
  @ApiOperation({ summary: 'The gateway is up (whether the cluster has a leader is in `leader`)' })
  @ApiOkResponse({ type: HealthDto })
  health(): HealthDto {
    return { status: 'ok', leader: this.view.leader() };
  }
}
