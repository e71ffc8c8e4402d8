import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flameGraphSvg } from './flame-graph';
import { profileLines, summarizeProfile, type CpuProfile } from './profile-summary';

function frame(id: number, functionName: string, url: string, children: number[] = []) {
  return { id, callFrame: { functionName, url, lineNumber: 0 }, children };
}

describe('summarizeProfile', () => {
  // root → runtime → verify (node crypto) → native "run"; root → bus → writeBuffer (native); GC; idle.
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', '', [2, 5, 7, 8]),
      frame(2, 'onMessage', 'file:///srv/dist/apps/node/src/replica/runtime.js', [3]),
      frame(3, 'verify', 'node:internal/crypto/sig', [4]),
      frame(4, 'run', ''),
      frame(5, 'flush', 'file:///srv/dist/libs/bus/src/bus.js', [6]),
      frame(6, 'writeBuffer', ''),
      frame(7, '(garbage collector)', ''),
      frame(8, '(idle)', ''),
    ],
    samples: [4, 4, 4, 4, 6, 6, 2, 7, 8, 8],
  };

  it('counts a native frame for the nearest JavaScript frame above it, and leaves idle out', () => {
    const s = summarizeProfile(profile);
    expect(s.samples).toBe(10);
    expect(s.busy).toBeCloseTo(0.8);
    expect(s.components).toEqual([
      { name: 'crypto (signatures, hashes, HMACs)', share: 0.5 },
      { name: 'bus (framing, MACs)', share: 0.25 },
      { name: 'replica runtime', share: 0.125 },
      { name: 'garbage collector', share: 0.125 },
    ]);
    expect(s.functions[0]).toEqual({ name: 'run', share: 0.5 });
  });

  it('names npm packages, scoped ones included', () => {
    const p: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 3]),
        frame(2, 'pack', 'file:///x/node_modules/msgpackr/dist/node.cjs'),
        frame(3, 'get', 'file:///x/node_modules/@nestjs/core/router.js'),
      ],
      samples: [2, 3, 3],
    };
    expect(summarizeProfile(p).components.map((c) => c.name)).toEqual(['npm @nestjs/core', 'npm msgpackr']);
  });

  it('prints CPU per operation from the process CPU and the rate', () => {
    const lines = profileLines('replica-n1', summarizeProfile(profile), 0.5, 5000);
    expect(lines[0]).toContain('replica-n1 (50% of a core, 100.0 µs CPU per op');
    expect(lines[1]).toContain('50.0%  crypto (signatures, hashes, HMACs), 50.0 µs/op');
  });
});

describe('the profiler preload (a real process)', () => {
  it('profiles between START and STOP and writes <phase>-<process>.cpuprofile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synod-prof-'));
    try {
      // The TypeScript source, through ts-node as the bench's build would load the compiled one.
      const child = spawn(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          join(__dirname, 'profiler-preload.ts'),
          '-e',
          'const t = Date.now(); const spin = () => { const e = Date.now() + 20; while (Date.now() < e); if (Date.now() - t < 8000) setImmediate(spin); }; spin();',
        ],
        { env: { ...process.env, SYNOD_PROFILE_DIR: dir, NODE_ID: 'n7' }, stdio: 'ignore' },
      );
      const file = join(dir, 'raft-writes-replica-n7.cpuprofile');
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(join(dir, 'START'), 'raft-writes');
      await new Promise((r) => setTimeout(r, 1000));
      writeFileSync(join(dir, 'STOP'), '');
      let text = '';
      for (let i = 0; i < 50 && text === ''; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          /* not yet */
        }
      }
      child.kill();
      const s = summarizeProfile(JSON.parse(text) as CpuProfile);
      expect(s.samples).toBeGreaterThan(100);
      expect(s.busy).toBeGreaterThan(0.5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('flameGraphSvg', () => {
  it('draws one box per call path with its share, leaves idle out, and names each component in the legend', () => {
    const p: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 4]),
        frame(2, 'step', 'file:///srv/dist/libs/consensus/src/raft/node.js', [3]),
        frame(3, 'pack', 'file:///srv/node_modules/msgpackr/dist/node.cjs'),
        frame(4, '(idle)', ''),
      ],
      samples: [2, 3, 3, 3, 4, 4],
    };
    const svg = flameGraphSvg(p, 'raft-writes-replica-n1');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('raft-writes-replica-n1');
    expect(svg).toContain('<title>step libs/consensus/src/raft/node.js:1 — consensus core, 100.0% of busy</title>');
    expect(svg).toContain('<title>pack msgpackr/dist/node.cjs:1 — npm msgpackr, 75.0% of busy</title>');
    expect(svg).not.toContain('(idle)');
    expect(svg).toContain('>consensus core</text>');
  });
});
