/**
 * One-off benchmark: encode + decode of a frame carrying 64 small binary entries (a Raft
 * AppendEntries-sized batch). Run: npx ts-node --transpile-only libs/bus/bench/frame-codec.ts
 */
import { decodeFrame, encodeFrame } from '../src/frame';

const entries = Array.from({ length: 64 }, (_, i) => ({
  index: 1000 + i,
  term: 7,
  command: Buffer.from(`{"op":"set","key":"k${i}","value":"v${i}"}`),
}));
const body = { type: 'AppendEntries', term: 7, leaderId: 'n1', prevLogIndex: 999, prevLogTerm: 7, entries, leaderCommit: 998 };

function measure(label: string, iterations: number, fn: () => void): void {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const perOp = ns / iterations;
  console.log(`${label}: ${(perOp / 1000).toFixed(2)} µs/frame, ${Math.round(1e9 / perOp).toLocaleString('en-US')} frames/s`);
}

const frame = encodeFrame('n1', body);
console.log(`frame size: ${frame.length} bytes (64 entries)`);
const N = 20_000;
measure('encode', N, () => {
  encodeFrame('n1', body);
});
measure('decode', N, () => {
  decodeFrame(frame);
});
measure('encode+decode', N, () => {
  decodeFrame(encodeFrame('n1', body));
});
