#!/usr/bin/env bash
# The README's first commands on a fresh clone, as a newcomer runs them: `npm ci && npm start`, then
# one write and one read through the REST API. Exits non-zero with the launcher's output on failure.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'kill -INT -- -$pid 2>/dev/null; sleep 3; kill -KILL -- -$pid 2>/dev/null; rm -rf "$dir"' EXIT
git clone -q "$src" "$dir/synod" || exit 1
cd "$dir/synod"
npm ci --no-audit --no-fund >"$dir/npm-ci.log" 2>&1 || { echo "smoke: npm ci failed"; tail -20 "$dir/npm-ci.log"; exit 1; }
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
PORT=$port setsid npm start >"$dir/start.log" 2>&1 &
pid=$!
for _ in $(seq 180); do grep -q SYNOD_READY "$dir/start.log" && break; kill -0 $pid 2>/dev/null || break; sleep 1; done
grep -q SYNOD_READY "$dir/start.log" || { echo "smoke: npm start did not get ready"; tail -30 "$dir/start.log"; exit 1; }
base=http://127.0.0.1:$port
for _ in $(seq 60); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.5; done
put=$(curl -s -X PUT "$base/v1/kv/smoke" -H 'content-type: application/json' -d '{"value":"hello"}')
get=$(curl -s "$base/v1/kv/smoke")
case "$get" in *'"value":"hello"'*) echo "smoke: fresh clone, npm ci && npm start, leader elected, PUT+GET ok";;
  *) echo "smoke: failed: PUT -> $put, GET -> $get"; tail -30 "$dir/start.log"; exit 1;; esac
