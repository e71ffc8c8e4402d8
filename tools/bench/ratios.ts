import { median } from '../stats';

/** ok/s of one measured phase, by phase name. */
export type Rates = Record<string, number>;
export const WRITES_MANY = 'writes, many';
export const WRITES_ONE = 'writes, 1 connection';
export const READS_MANY = 'linearizable reads, many';

/** The four ratios issue 11 sets goals for, from one round's rates (null where a side was not measured). */
export function ratioValues(etcd: Rates, synod: Partial<Record<'raft' | 'pbft', Rates>>): Array<{ name: string; goal: number; value: number | null }> {
  const r = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? null : a / b);
  const out: Array<{ name: string; goal: number; value: number | null }> = [];
  if (synod.raft) {
    out.push({ name: 'raft writes, many connections', goal: 2, value: r(synod.raft[WRITES_MANY], etcd[WRITES_MANY]) });
    out.push({ name: 'raft writes, 1 connection', goal: 1, value: r(synod.raft[WRITES_ONE], etcd[WRITES_ONE]) });
    out.push({ name: 'raft linearizable reads, many connections', goal: 2, value: r(synod.raft[READS_MANY], etcd[READS_MANY]) });
  }
  if (synod.pbft) out.push({ name: "pbft writes vs etcd's raft, many connections", goal: 1, value: r(synod.pbft[WRITES_MANY], etcd[WRITES_MANY]) });
  return out;
}

/**
 * The ratios of every round and, with more than one, their medians: each round measures etcd and
 * then Synod back to back, so a machine that speeds up or slows down between rounds moves both.
 */
export function ratioLines(rounds: Array<ReturnType<typeof ratioValues>>): string[] {
  const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
  if (rounds.length === 0) return [];
  const lines = [
    rounds.length === 1 ? 'ratios (Synod / etcd, this run):' : `ratios (Synod / etcd, ${rounds.length} rounds in this run; median, then each round):`,
  ];
  rounds[0].forEach(({ name, goal }, i) => {
    const values = rounds.map((r) => r[i]?.value ?? null);
    const known = values.filter((v): v is number => v !== null);
    const each = rounds.length > 1 ? ` [${values.map(fmt).join(', ')}]` : '';
    lines.push(`  ${name}: ${fmt(known.length > 0 ? median(known) : null)}${each} (goal >= ${goal})`);
  });
  return lines;
}
