/**
 * One-off benchmark: the frame codec, and what authentication adds to it. Bodies: a Raft
 * AppendEntries with 64 small binary entries, and an empty heartbeat. For each:
 * - encode / decode: packBody + encodeFrame (no MACs) / splitFrame + unpackBody, the codec alone;
 * - seal / open with 1 MAC (a direct frame) and with 4 MACs (a broadcast to four peers; a receiver
 *   still checks one), the seal and the open apart and together.
 * Each figure is the best of three timed runs.
 * Run: npx ts-node --transpile-only libs/bus/bench/frame-codec.ts
 */
import { CLIENT_PRINCIPAL, FrameAuth } from '../src/auth';
import { channelFor, topicChannel } from '../src/channels';
import { encodeFrame, type FrameHeader, packBody, splitFrame, unpackBody } from '../src/frame';
import { testBusKeys } from '../src/test-keys';

const entries = Array.from({ length: 64 }, (_, i) => ({
  index: 1000 + i,
  term: 7,
  command: Buffer.from(`{"op":"set","key":"k${i}","value":"v${i}"}`),
}));
const heartbeat = { type: 'AppendEntries', term: 7, leaderId: 'n1', prevLogIndex: 999, prevLogTerm: 7, entries: [], leaderCommit: 998 };
const batch64 = { ...heartbeat, entries };

const REPLICAS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const keys = testBusKeys([...REPLICAS, CLIENT_PRINCIPAL]);
const CLUSTER = 'bench';
const auth = (self: string): FrameAuth => new FrameAuth({ cluster: CLUSTER, self, replicas: REPLICAS, keys: keys(self), incarnation: 1 });

const WARM = 2000;
// Each figure is the best of ROUNDS timed runs: on a shared machine the slower ones measure the neighbours.
const ROUNDS = 3;

function report(label: string, iterations: number, ns: number): number {
  const perOp = ns / iterations;
  console.log(
    `${label.padEnd(40)} ${(perOp / 1000).toFixed(2).padStart(8)} µs/frame ${Math.round(1e9 / perOp)
      .toLocaleString('en-US')
      .padStart(10)} frames/s`,
  );
  return perOp;
}

function measure(label: string, iterations: number, fn: () => void): number {
  for (let i = 0; i < WARM; i++) fn();
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  return report(label, iterations, best);
}

/** open() takes each frame once (anti-replay): it is measured over frames sealed beforehand. */
function measureOpen(label: string, iterations: number, seal: () => Buffer, open: (frame: Buffer) => unknown): number {
  const frames = Array.from({ length: WARM + ROUNDS * iterations }, seal);
  for (let i = 0; i < WARM; i++) check(open(frames[i]));
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = WARM + r * iterations;
    const t0 = process.hrtime.bigint();
    for (let i = start; i < start + iterations; i++) open(frames[i]);
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  check(open(seal())); // still accepting after the timed runs
  return report(label, iterations, best);
}

function check(opened: unknown): void {
  if (opened === null || typeof opened !== 'object') throw new Error(`open refused a frame: ${String(opened)}`);
}

function bench(name: string, body: unknown, n: number): void {
  const noMacs: FrameHeader = { from: 'n1', inc: 1, seq: 1, toInc: 0, macs: {} };
  const plain = encodeFrame(noMacs, packBody(body));
  const direct = channelFor(CLUSTER, 'n2');
  const broadcast = topicChannel(CLUSTER, 'broadcast');
  console.log(
    `\n${name}: ${plain.length} bytes unauthenticated, ${auth('n1').seal(direct, body, ['n2']).length} with 1 MAC, ${auth('n1').seal(broadcast, body, ['n2', 'n3', 'n4', 'n5']).length} with 4 MACs`,
  );

  const codec = measure('encode+decode (no MACs)', n, () => {
    unpackBody(splitFrame(encodeFrame(noMacs, packBody(body)))!.body);
  });
  measure('  encode', n, () => {
    encodeFrame(noMacs, packBody(body));
  });
  measure('  decode', n, () => {
    unpackBody(splitFrame(plain)!.body);
  });

  for (const [macs, channel, audience] of [
    [1, direct, ['n2']],
    [4, broadcast, ['n2', 'n3', 'n4', 'n5']],
  ] as const) {
    const sender = auth('n1');
    const receiver = auth('n2');
    const both = measure(`seal+open, ${macs} MAC${macs > 1 ? 's' : ''}`, n, () => {
      check(receiver.open(channel, sender.seal(channel, body, audience)));
    });
    measure('  seal', n, () => {
      sender.seal(channel, body, audience);
    });
    const s2 = auth('n1');
    const r2 = auth('n2');
    measureOpen(
      '  open',
      n,
      () => s2.seal(channel, body, audience),
      (f) => r2.open(channel, f),
    );
    console.log(
      `${'  overhead of authentication'.padEnd(40)} ${((both - codec) / 1000).toFixed(2).padStart(8)} µs/frame (${((both / codec - 1) * 100).toFixed(0)}%)`,
    );
  }
}

bench('64 binary entries', batch64, 10_000);
bench('heartbeat', heartbeat, 50_000);
