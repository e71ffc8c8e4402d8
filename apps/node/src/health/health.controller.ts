import { Controller, Get, Header, Inject } from '@nestjs/common';
import { NODE_CONFIG } from '../config/config.module';
import type { NodeConfig } from '../config/node-config';
import { ReplicaService } from '../replica/replica.service';

@Controller()
export class HealthController {
  constructor(
    private readonly replica: ReplicaService,
    @Inject(NODE_CONFIG) private readonly cfg: NodeConfig,
  ) {}

  @Get('health')
  health() {
    return { status: 'ok', ...this.replica.controlStatus() };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): string {
    const labels = `node="${this.cfg.nodeId}",cluster="${this.cfg.cluster}"`;
    const s = this.replica.controlStatus();
    const lines = [
      `synod_node_alive{${labels}} ${s.alive ? 1 : 0}`,
      `synod_node_isolated{${labels}} ${s.isolated ? 1 : 0}`,
      `synod_node_term{${labels}} ${s.term}`,
      `synod_node_commit_index{${labels}} ${s.commitIndex}`,
      `synod_node_applied_index{${labels}} ${s.appliedIndex}`,
      `synod_node_is_leader{${labels}} ${s.role === 'leader' || s.role === 'primary' ? 1 : 0}`,
    ];
    const counters: Record<string, number> = {
      ...prefix('bus_', this.replica.bus.counters),
      ...prefix('replica_', this.replica.counters),
      ...prefix('runtime_', this.replica.runtimeStatus()?.counters ?? {}),
    };
    for (const [k, v] of Object.entries(counters)) lines.push(`synod_${snake(k)}{${labels}} ${v}`);
    return lines.join('\n') + '\n';
  }
}

function prefix(p: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, Number(v)]));
}

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}
