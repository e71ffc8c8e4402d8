import { readdirSync, readFileSync } from 'node:fs';

/**
 * Per-process CPU during a phase, from /proc (Linux): which process the machine's cores went to —
 * the gateway(s), each replica, each Redis, the load generator itself. utime + stime in clock ticks
 * (100 per second on Linux).
 */
const TICKS_PER_SECOND = 100;

interface Proc {
  pid: number;
  ppid: number;
  ticks: number;
  label: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields that follow start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { pid, ppid, ticks, label: labelOf(pid) };
  } catch {
    return null;
  }
}

function labelOf(pid: number): string {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return `pid ${pid}`;
  }
  if (cmd.includes('redis-server')) return `redis ${/:(\d+)/.exec(cmd)?.[1] ?? /--port (\d+)/.exec(cmd)?.[1] ?? pid}`;
  if (cmd.includes('apps/node/src/main.js')) {
    const node = /(?:^|\0)NODE_ID=([^\0]+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1];
    return `replica ${node ?? pid}`;
  }
  if (cmd.includes('apps/gateway/src/main.js')) return `gateway ${pid}`;
  if (pid === process.pid) return 'bench (load generator)';
  return cmd.slice(0, 40) || `pid ${pid}`;
}

/** This process and all its descendants. */
function tree(): Map<number, Proc> {
  const all: Proc[] = [];
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) all.push(readProc(Number(d))!);
  const procs = all.filter((p) => p !== null);
  const out = new Map<number, Proc>();
  const add = (pid: number) => {
    const p = procs.find((x) => x.pid === pid);
    if (!p || out.has(pid)) return;
    out.set(pid, p);
    for (const c of procs) if (c.ppid === pid) add(c.pid);
  };
  add(process.pid);
  return out;
}

/** One process's CPU over a measurement: `cpu` in cores (1 = one core busy all the time). */
export interface CpuRow {
  label: string;
  pid: number;
  cpu: number;
}

export interface CpuUse {
  rows: CpuRow[];
  /** "label: N% of a core" lines, busiest first, and the total. */
  lines: string[];
}

/** Starts a measurement; the returned function ends it and says which process used how much CPU. */
export function cpuSampler(): () => CpuUse {
  if (process.platform !== 'linux') return () => ({ rows: [], lines: [] });
  const t0 = Date.now();
  const before = tree();
  return () => {
    const seconds = (Date.now() - t0) / 1000;
    const after = tree();
    const rows: CpuRow[] = [];
    for (const [pid, p] of after) {
      const used = p.ticks - (before.get(pid)?.ticks ?? 0);
      if (used > 0) rows.push({ label: p.label, pid, cpu: used / TICKS_PER_SECOND / seconds });
    }
    rows.sort((a, b) => b.cpu - a.cpu);
    const total = rows.reduce((s, r) => s + r.cpu, 0);
    const cores = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length;
    return {
      rows,
      lines: [...rows.map((r) => `  ${r.label}: ${(100 * r.cpu).toFixed(0)}% of a core`), `  all: ${(100 * total).toFixed(0)}% (of ${100 * cores}%)`],
    };
  };
}
