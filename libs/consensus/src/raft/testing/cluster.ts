import { RaftNode } from '../node';
import { Entry, Message, NodeId, PersistentState, RaftConfig, RaftFatal, RaftFaults, ReadFailure, ReadState } from '../types';

/**
 * A hand-driven cluster for unit tests: messages wait in a queue until delivered, links can be cut,
 * each Ready is persisted to a plain object (so a node can be restarted from it).
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly persisted = new Map<NodeId, PersistentState>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readFailures = new Map<NodeId, ReadFailure[]>();
  /** Every Ready.fatal each node handed out since its last (re)start. */
  readonly fatals = new Map<NodeId, RaftFatal[]>();
  queue: Message[] = [];
  private cut = new Set<string>();

  constructor(
    readonly ids: NodeId[],
    private readonly overrides: Partial<RaftConfig> = {},
    private readonly faults: Record<NodeId, RaftFaults> = {},
  ) {
    for (const id of ids) {
      this.persisted.set(id, { hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
      this.start(id);
    }
  }

  /** Nodes started by join(): they boot with no configuration and learn it from the leader. */
  private readonly joiners = new Set<NodeId>();

  config(id: NodeId): RaftConfig {
    return {
      id,
      configuration: this.joiners.has(id) ? { voters: [], learners: [] } : { voters: this.ids.filter((x) => !this.joiners.has(x)), learners: [] },
      electionTick: 10,
      heartbeatTick: 1,
      preVote: true,
      checkQuorum: true,
      maxEntriesPerMessage: 64,
      maxInflight: 8,
      // Distinct, fixed election timeouts: n1 fires first, then n2, ...
      random: () => (this.ids.indexOf(id) * 0.37) % 1,
      faults: this.faults[id],
      ...this.overrides,
    };
  }

  /** (Re)start a node from what it persisted: the same path as a process start. */
  start(id: NodeId): RaftNode {
    const p = this.persisted.get(id)!;
    const node = new RaftNode(this.config(id), structuredClone(p));
    this.nodes.set(id, node);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    this.readFailures.set(id, []);
    this.fatals.set(id, []);
    this.process(id);
    return node;
  }

  /** A new, empty server (as a process started to be added as a learner): no log, no configuration. */
  join(id: NodeId): RaftNode {
    this.joiners.add(id);
    this.ids.push(id);
    this.persisted.set(id, { hardState: { currentTerm: 0, votedFor: null, commitIndex: 0 }, snapshot: null, entries: [] });
    return this.start(id);
  }

  node(id: NodeId): RaftNode {
    return this.nodes.get(id)!;
  }

  leader(): NodeId | null {
    for (const [id, n] of this.nodes) if (n.status().role === 'leader') return id;
    return null;
  }

  /** Handle every pending Ready of one node: persist, queue the messages, apply. */
  process(id: NodeId): void {
    const node = this.nodes.get(id)!;
    while (node.hasReady()) {
      const rd = node.ready();
      const p = this.persisted.get(id)!;
      if (rd.snapshot) {
        p.snapshot = rd.snapshot;
        p.entries = [];
      }
      if (rd.hardState) p.hardState = rd.hardState;
      if (rd.entries.length > 0) {
        const first = rd.entries[0].index;
        p.entries = p.entries.filter((e) => e.index < first).concat(rd.entries);
      }
      for (const m of rd.messages) this.queue.push(structuredClone(m));
      this.applied.get(id)!.push(...rd.committedEntries);
      this.readStates.get(id)!.push(...rd.readStates);
      this.readFailures.get(id)!.push(...rd.readFailures);
      if (rd.fatal) this.fatals.get(id)!.push(rd.fatal);
      node.advance(rd);
    }
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.process(id);
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of this.ids) this.tick(id);
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Deliver queued messages (and those they cause) until the network is quiet. */
  deliver(filter: (m: Message) => boolean = () => true, maxSteps = 100_000): void {
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > maxSteps) throw new Error('network did not quiesce');
      const m = this.queue.shift()!;
      if (this.cut.has(`${m.from}>${m.to}`) || !filter(m) || !this.nodes.has(m.to)) continue;
      this.node(m.to).step(m);
      this.process(m.to);
    }
  }

  /** Make `id` campaign (its election timer fires) and run the election to completion. */
  elect(id: NodeId, filter?: (m: Message) => boolean): void {
    const node = this.node(id);
    for (let i = 0; i < 2 * (this.overrides.electionTick ?? 10) && node.status().role === 'follower'; i++) this.tick(id);
    this.deliver(filter);
  }

  propose(id: NodeId, ...payloads: string[]): ReturnType<RaftNode['propose']> {
    const r = this.node(id).propose(payloads.map((p) => Buffer.from(p)));
    this.process(id);
    return r;
  }

  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === 'normal')
      .map((e) => Buffer.from(e.data!).toString());
  }
}
