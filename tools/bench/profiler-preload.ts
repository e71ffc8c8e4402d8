import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

/**
 * Loaded into every replica and gateway process by `npm run bench -- --profile DIR`
 * (NODE_OPTIONS=--require this file, SYNOD_PROFILE_DIR=DIR). The bench starts and stops V8's
 * sampling profiler in all of them at once with two files, not signals (Nest's shutdown hooks take
 * SIGUSR2 and the launcher's supervisor owns the rest): DIR/START, whose text is the phase's name,
 * and DIR/STOP. Each process then writes DIR/<phase>-<process>.cpuprofile, which Chrome's DevTools
 * (Performance → Load profile) or speedscope draw as a flame graph.
 */
const POLL_MS = 100;
/** Sampling interval: V8's default (1 ms) gives too few samples in a few seconds of load. */
const SAMPLING_US = 500;

const dir = process.env.SYNOD_PROFILE_DIR;

function processName(): string {
  if (process.env.NODE_ID) return `replica-${process.env.NODE_ID}`;
  return `${process.argv[1]?.includes('gateway') ? 'gateway' : 'process'}-${process.pid}`;
}

if (dir) {
  let session: Session | null = null;
  let phase = '';
  let phaseDone = '';
  const timer = setInterval(() => {
    const start = join(dir, 'START');
    if (session === null && existsSync(start)) {
      const name = readFileSync(start, 'utf8').trim();
      if (name === '' || name === phaseDone) return;
      phase = name;
      session = new Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
      session.post('Profiler.start');
    } else if (session !== null && existsSync(join(dir, 'STOP'))) {
      const s = session;
      session = null;
      phaseDone = phase;
      s.post('Profiler.stop', (err, result) => {
        s.disconnect();
        if (err) return;
        // Written under a temporary name first: the bench waits for the final one.
        const file = join(dir, `${phase}-${processName()}.cpuprofile`);
        writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
        renameSync(`${file}.tmp`, file);
      });
    }
  }, POLL_MS);
  timer.unref();
}
