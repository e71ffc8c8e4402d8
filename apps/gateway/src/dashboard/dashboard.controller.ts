import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DASHBOARD_HTML } from './dashboard.html';

@ApiTags('dashboard')
@Controller()
export class DashboardController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'The dashboard: nodes, roles, indexes, admin buttons (polls /v1/cluster)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'HTML page' })
  page(): string {
    return DASHBOARD_HTML;
  }
}
