#!/usr/bin/env node
// `npm start`: build when the compiled output is missing or older than the sources, then launch.
const { spawnSync } = require('node:child_process');
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'apps', 'launcher', 'src', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (d.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const stamp = join(root, 'dist', '.tsbuildinfo');
const stale = !existsSync(entry) || !existsSync(stamp) || ['apps', 'libs'].some((d) => newestSource(join(root, d)) > statSync(stamp).mtimeMs);
if (stale) {
  process.stdout.write('synod: building...\n');
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
require(entry);
