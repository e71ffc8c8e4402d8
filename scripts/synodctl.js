#!/usr/bin/env node
// `npx synodctl ...` / `npm run -s synodctl -- ...`: the CLI (tools/synodctl), built first if stale.
require(require('./ensure-built')('tools/synodctl/main.js', (line) => process.stderr.write(line)));
