// Build when the compiled output is missing or older than the sources (npm start, synodctl).
const { spawnSync } = require('node:child_process');
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function newestSource(dir) {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (d.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The compiled `relative` (under dist/), built first if stale; progress goes to `log`. */
module.exports = function ensureBuilt(relative, log = (line) => process.stdout.write(line)) {
  const entry = join(root, 'dist', relative);
  const stamp = join(root, 'dist', '.tsbuildinfo');
  const stale = !existsSync(entry) || !existsSync(stamp) || ['apps', 'libs', 'tools'].some((d) => newestSource(join(root, d)) > statSync(stamp).mtimeMs);
  if (stale) {
    log('synod: building...\n');
    const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  return entry;
};
