import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { BYZANTINE_BEHAVIORS } from '@app/wire';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ClusterView } from '../cluster/cluster-view';
import { TIMELINE_KEEP, type LabEvent, type LabHello, type LabScenarioInfo, type LabState as LabStateFrame } from './lab-contract';
import { LabEvents } from './lab-events';
import { LabState } from './lab-state';

/** The scenario runner's catalogue (scenarios/ provides it under this token; the lab stands without it). */
export const LAB_SCENARIOS = Symbol('LAB_SCENARIOS');
export interface LabScenarioCatalogue {
  catalogue(): LabScenarioInfo[];
}

/** The fault lab's answers: what a page gets when it connects, and the stream it follows. */
@Injectable()
export class LabService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly view: ClusterView,
    private readonly events: LabEvents,
    private readonly state: LabState,
    private readonly modules: ModuleRef,
  ) {}

  private scenarios(): LabScenarioInfo[] {
    try {
      return this.modules.get<LabScenarioCatalogue>(LAB_SCENARIOS, { strict: false }).catalogue();
    } catch {
      return [];
    }
  }

  hello(): LabHello {
    return {
      protocol: this.config.protocol,
      cluster: this.config.cluster,
      quorum: this.view.quorumSize(),
      behaviors: this.config.protocol === 'pbft' ? ['none', ...BYZANTINE_BEHAVIORS.filter((b) => b !== 'none')] : [],
      supervisor: this.config.supervisorUrl !== null,
      adminToken: this.config.adminToken !== null,
      scenarios: this.scenarios(),
      state: this.state.state(),
      timeline: this.events.recent(TIMELINE_KEEP),
      series: this.state.chartSeries(),
    };
  }

  /** Events and state frames to a stream until the returned function is called. */
  stream(onEvent: (e: LabEvent) => void, onState: (s: LabStateFrame) => void): () => void {
    const stopEvents = this.events.subscribe(onEvent);
    const stopState = this.state.subscribe(onState);
    return () => {
      stopEvents();
      stopState();
    };
  }
}
