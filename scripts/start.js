#!/usr/bin/env node
// `npm start`: build when the compiled output is missing or older than the sources, then launch.
require(require('./ensure-built')('apps/launcher/src/main.js'));
