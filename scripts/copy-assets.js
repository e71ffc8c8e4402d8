#!/usr/bin/env node
'use strict';
// The build's last step: files tsc does not emit but the compiled apps read at run time (the fault
// lab's page: HTML, CSS and browser JavaScript, shipped as they are — users run no build step).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const ASSETS = ['apps/gateway/src/lab/page'];

for (const dir of ASSETS) {
  const from = path.join(root, dir);
  const to = path.join(root, 'dist', dir);
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}
