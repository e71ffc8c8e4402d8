import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '@app/history';
import type { Convergence } from './convergence';
import type { DurabilityReport } from './durability';
import type { LedgerReport } from './ledger-check';
import type { FaultEvent, FaultKind } from './nemesis';
import type { ChaosOptions } from './options';
import type { RecordedOp, UnexpectedStatus } from './recorder';
import type { WatchReport } from './watch-check';

export interface ChaosResult {
  protocol: string;
  seed: number;
  canary: string | null;
  clients: number;
  duration: number;
  ops: { total: number; ok: number; fail: number; info: number };
  /** null: the checker hit its budget on some key (unknown). */
  linearizable: boolean | null;
  check: { keys: number; ops: number; incomplete: boolean; unknownKeys: string[]; violations: number; ms: number };
  durability: DurabilityReport & { lostCount: number };
  convergence: Convergence;
  /** GET /v1/ledger/verify after convergence (ledger-check.ts). */
  ledger: LedgerReport;
  /** One watch over the run, checked against the history (watch-check.ts). */
  watch: WatchReport;
  faults: Record<FaultKind, number>;
  faultErrors: string[];
  unexpected: UnexpectedStatus[];
  /** The verdict behind the exit code. */
  passed: boolean;
  summary: string;
}

export function verdict(r: Omit<ChaosResult, 'passed' | 'summary'>): boolean {
  const sound =
    r.durability.lost.length === 0 &&
    r.durability.unverified.length === 0 &&
    r.convergence.converged &&
    r.ledger.ok &&
    r.unexpected.length === 0 &&
    r.watch.problems.length === 0;
  // A canary run passes when the checker catches it: a stale-read history must not pass as linearizable.
  return sound && (r.canary ? r.linearizable === false : r.linearizable === true);
}

export function summaryLine(r: Omit<ChaosResult, 'summary'>): string {
  const f = r.faults;
  const lin =
    r.linearizable === null
      ? `unknown (search budget hit on ${r.check.unknownKeys.join(', ')})`
      : r.linearizable
        ? 'yes'
        : `no (${r.check.violations} key${r.check.violations === 1 ? '' : 's'})`;
  const parts = [
    `${r.protocol} seed=${r.seed}${r.canary ? ` canary=${r.canary}` : ''}: ${r.ops.total} ops (${r.ops.ok} ok, ${r.ops.fail} failed, ${r.ops.info} indeterminate)`,
    `linearizable: ${lin}`,
    `acknowledged writes lost: ${r.durability.lost.length} of ${r.durability.acknowledged}${r.durability.unverified.length ? ` (${r.durability.unverified.length} unverified)` : ''}`,
    `converged: ${r.convergence.converged ? `yes (${r.convergence.digests ? 'applied index and state digest' : 'applied index; no digests published'})` : 'NO'}`,
    `ledger: ${r.ledger.ok ? 'verified' : `NOT verified${r.ledger.broken.length ? ` (${r.ledger.broken.join(',')} broken)` : ''}`}`,
    `watch: ${r.watch.events} changes, ${r.watch.problems.length === 0 ? 'each once, in order' : `${r.watch.problems.length} PROBLEMS (${r.watch.problems.slice(0, 3).join('; ')})`}`,
    `faults: kill=${f.kill} hard-kill=${f['hard-kill']} isolate=${f.isolate} redis-kill=${f['redis-kill']} byzantine=${f.byzantine}`,
  ];
  if (r.unexpected.length > 0) {
    const by = new Map<number, number>();
    for (const u of r.unexpected) by.set(u.status, (by.get(u.status) ?? 0) + 1);
    parts.push(`UNEXPECTED STATUSES: ${[...by].map(([s, n]) => `${s}×${n}`).join(' ')}`);
  }
  if (r.canary) parts.push(`canary ${r.linearizable === false ? 'caught' : 'NOT caught'}`);
  parts.push(r.passed ? 'PASS' : 'FAIL');
  return parts.join(', ');
}

/**
 * The windows of operations the checker could not linearize, each with the faults that were under
 * way while it ran: enough to see what happened without reading the whole history.
 */
export function violationReport(check: CheckResult, history: RecordedOp[], events: FaultEvent[]): unknown[] {
  return check.violations.map((v) => {
    const ops = v.ops as RecordedOp[];
    const from = Math.min(...ops.map((o) => o.invoke));
    const to = Math.max(...ops.map((o) => o.complete ?? o.invoke));
    // Values are unique: the one operation that wrote each value read in the window says when it was current.
    const read = new Set(ops.filter((o) => o.kind === 'get' && o.result?.value).map((o) => o.result?.value));
    const writers = history.filter((o) => o.key === v.key && (o.kind === 'put' || o.kind === 'cas') && read.has(o.value) && !ops.includes(o));
    // The faults under way from the first of these operations to the last.
    const all = [...ops, ...writers];
    const start = Math.min(...all.map((o) => o.invoke));
    const end = Math.max(...all.map((o) => o.complete ?? o.invoke));
    return {
      key: v.key,
      explanation: v.explanation,
      window: { from, to },
      ops,
      writersOfValuesRead: writers,
      faults: events.filter((e) => e.start <= end && (e.end === null || e.end >= start)),
    };
  });
}

export function writeArtifacts(o: ChaosOptions, result: ChaosResult, history: RecordedOp[], check: CheckResult, events: FaultEvent[]): void {
  // One operation a line: greppable, and diffable between seeds.
  const lines = history.map((op) => JSON.stringify(op)).join(',\n');
  writeFileSync(join(o.outDir, 'history.json'), `{"options":${JSON.stringify(o)},\n"faults":${JSON.stringify(events)},\n"history":[\n${lines}\n]}\n`);
  writeFileSync(join(o.outDir, 'result.json'), JSON.stringify(result, null, 2));
  if (check.violations.length > 0) writeFileSync(join(o.outDir, 'violation.json'), JSON.stringify(violationReport(check, history, events), null, 2));
}
