#!/usr/bin/env bash
# CI: docker-compose.yml for real. Starts a docker engine (and stand-ins for the base images where
# no image registry answers) with ../shared/tools/docker-standins.sh, then runs the compose
# end-to-end test, which builds the image once and brings the Raft and PBFT topologies up and down.
# Stops the engine again if this script started it. Extra arguments go to jest (e.g. --json ...).
set -uo pipefail
cd "$(dirname "$0")/.."

standins=../shared/tools/docker-standins.sh
[ -x "$standins" ] || standins="bash $standins"
out=$($standins 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '^debconf\|^E: Can not write log\|^invoke-rc.d' || true
if [ $rc -ne 0 ]; then
  echo "compose e2e: the docker engine cannot start here (standins exited $rc); failing, not skipping" >&2
  exit 1
fi
dockerd_pid=$(printf '%s\n' "$out" | sed -n 's/^DOCKERD_PID=//p')
# dockerd keeps the images it built; only a dockerd this script started is stopped.
trap '[ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null' EXIT

# require: a missing engine is a failure here, never a skip.
SYNOD_COMPOSE_E2E=require npx jest -c test/compose/jest.config.js "$@"
