/**
 * Where one process's CPU went, from a V8 CPU profile (.cpuprofile): its busy samples by component
 * of Synod (consensus core, state machine, bus, storage, runtime, gateway) and by what it calls
 * (Node's sockets and HTTP, crypto, each npm package, the garbage collector). A native frame
 * (a syscall, a crypto job) counts for the nearest JavaScript frame above it, so a socket write
 * counts as sockets and a signature check as crypto. The call tree is flame-graph.ts's too.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
}

export interface ProfileSummary {
  samples: number;
  /** Samples not idle, as a fraction of all. */
  busy: number;
  /** Busy samples by component, largest first; shares of the busy samples. */
  components: Array<{ name: string; share: number }>;
  /** Busy samples by function (self time), largest first. */
  functions: Array<{ name: string; share: number }>;
}

const RULES: Array<[RegExp, string]> = [
  [/\/libs\/consensus\/src\/(raft|pbft)\//, 'consensus core'],
  [/\/libs\/consensus\/src\//, 'state machine, ledger, codecs'],
  [/\/libs\/bus\//, 'bus (framing, MACs)'],
  [/\/libs\/storage\//, 'storage (log, Lua)'],
  [/\/libs\//, 'other libs'],
  [/\/apps\/node\//, 'replica runtime'],
  [/\/apps\/gateway\//, 'gateway code'],
  [/^node:internal\/crypto/, 'crypto (signatures, hashes, HMACs)'],
  [/^node:(net|_http_|internal\/(streams|stream_base_commons|http|js_stream_socket))/, 'sockets and HTTP (Node)'],
  [/^node:/, 'Node internals (events, timers, buffers)'],
];

/** The component a frame belongs to; null for a native frame (it belongs to its caller's). */
function componentOf(url: string, fn: string): string | null {
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8 and natives (unattributed)';
  if (url === '') return null; // a native frame: the caller's
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  for (const [rx, name] of RULES) if (rx.test(url)) return name;
  return 'other';
}

/** "function file:line", the file relative to node_modules or to the build's dist/. */
function frameName(cf: { functionName: string; url: string; lineNumber: number }): string {
  const file = cf.url.includes('node_modules/') ? cf.url.split('node_modules/').pop() : cf.url.replace(/^.*\/dist\//, '');
  return `${cf.functionName || '(anonymous)'}${cf.url ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
}

function sorted(m: Map<string, number>, total: number): Array<{ name: string; share: number }> {
  return [...m].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({ name, share: total > 0 ? n / total : 0 }));
}

/** One call path of a profile: its samples alone (`self`) and with its callees (`count`). */
export interface CallNode {
  name: string;
  component: string;
  self: number;
  count: number;
  children: CallNode[];
}

/**
 * The profile as a tree of call paths, idle left out, children largest first; a native frame takes
 * its caller's component. null for a profile without a root.
 */
export function callTree(p: CpuProfile): CallNode | null {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const s of p.samples) self.set(s, (self.get(s) ?? 0) + 1);
  const build = (id: number, inherited: string): CallNode | null => {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === '(idle)') return null;
    const cf = n.callFrame;
    const component = componentOf(cf.url, cf.functionName) ?? inherited;
    const children = (n.children ?? []).map((c) => build(c, component)).filter((c): c is CallNode => c !== null);
    const own = self.get(id) ?? 0;
    const count = own + children.reduce((sum, c) => sum + c.count, 0);
    return { name: frameName(cf), component, self: own, count, children: children.sort((x, y) => y.count - x.count) };
  };
  const root = p.nodes.find((n) => n.callFrame.functionName === '(root)') ?? p.nodes[0];
  return root === undefined ? null : build(root.id, 'V8 and natives (unattributed)');
}

export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (n: CallNode) => {
    if (n.self > 0) {
      components.set(n.component, (components.get(n.component) ?? 0) + n.self);
      functions.set(n.name, (functions.get(n.name) ?? 0) + n.self);
    }
    n.children.forEach(add);
  };
  const tree = callTree(p);
  if (tree) add(tree);
  const busy = tree?.count ?? 0;
  return {
    samples: p.samples.length,
    busy: p.samples.length > 0 ? busy / p.samples.length : 0,
    components: sorted(components, busy),
    functions: sorted(functions, busy),
  };
}

/**
 * Printable lines: each component's share of the process's busy time and, given the process's CPU
 * (fraction of a core) and the phase's rate (operations/s), its CPU per operation in µs.
 */
export function profileLines(name: string, s: ProfileSummary, cpu: number | null, ratePerSecond: number, top = 8): string[] {
  const perOp = (share: number) => (cpu !== null && ratePerSecond > 0 ? `, ${((share * cpu * 1e6) / ratePerSecond).toFixed(1)} µs/op` : '');
  const head =
    cpu !== null && ratePerSecond > 0
      ? `${(cpu * 100).toFixed(0)}% of a core, ${((cpu * 1e6) / ratePerSecond).toFixed(1)} µs CPU per op`
      : `${(s.busy * 100).toFixed(0)}% busy`;
  return [
    `  ${name} (${head}; ${s.samples} samples):`,
    ...s.components.slice(0, top).map((c) => `    ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.name}${perOp(c.share)}`),
    `    hottest functions: ${s.functions
      .slice(0, 5)
      .map((f) => `${f.name} ${(f.share * 100).toFixed(1)}%`)
      .join('; ')}`,
  ];
}
