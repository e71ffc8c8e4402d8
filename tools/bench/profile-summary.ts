/**
 * Where one process's CPU went, from a V8 CPU profile (.cpuprofile): its busy samples by component
 * of Synod (consensus core, state machine, bus, storage, runtime, gateway) and by what it calls
 * (Node's sockets and HTTP, crypto, each npm package, the garbage collector). A native frame
 * (a syscall, a crypto job) counts for the nearest JavaScript frame above it, so a socket write
 * counts as sockets and a signature check as crypto.
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
export function componentOf(url: string, fn: string): string | null {
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8 and natives (unattributed)';
  if (url === '') return null; // a native frame: the caller's
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  for (const [rx, name] of RULES) if (rx.test(url)) return name;
  return 'other';
}

/** "function file:line", the file relative to node_modules or to the build's dist/. */
export function frameName(cf: { functionName: string; url: string; lineNumber: number }): string {
  const file = cf.url.includes('node_modules/') ? cf.url.split('node_modules/').pop() : cf.url.replace(/^.*\/dist\//, '');
  return `${cf.functionName || '(anonymous)'}${cf.url ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
}

function sorted(m: Map<string, number>, total: number): Array<{ name: string; share: number }> {
  return [...m].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({ name, share: total > 0 ? n / total : 0 }));
}

export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += count;
    let component: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined && component === null; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (cf) component = componentOf(cf.url, cf.functionName);
    }
    component ??= 'V8 and natives (unattributed)';
    components.set(component, (components.get(component) ?? 0) + count);
    const fn = frameName(node.callFrame);
    functions.set(fn, (functions.get(fn) ?? 0) + count);
  }
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
