import { PbftSim } from './cluster';
import { pbftCanary } from './canaries';
const canary = process.argv[2] && process.argv[2] !== '-' ? pbftCanary(process.argv[2]) : undefined;
const from = Number(process.argv[3] ?? 1), count = Number(process.argv[4] ?? 20);
const tot: Record<string, number> = {};
let fails = 0; const t0 = Date.now();
for (let s = from; s < from + count; s++) {
  const r = new PbftSim({ seed: s, faults: canary }).run();
  for (const [k, v] of Object.entries(r.stats)) tot[k] = (tot[k] ?? 0) + v;
  if (r.violations.length) { fails++; if (fails <= 5) console.log(s, r.violations[0].slice(0, 300)); }
}
console.log(JSON.stringify(tot), 'fails', fails, 'ms/seed', (Date.now() - t0) / count);
