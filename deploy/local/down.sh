#!/usr/bin/env bash
# Stops the topology deploy/local/up.sh started (same MRE_STATE_DIR), leaving nothing running: each
# service's whole process group gets SIGTERM (Dagster's services and Celery's warm shutdown stop within
# seconds; a run still working is failed by Dagster as interrupted), and SIGKILL after a grace period.
# The daemon stops first, so no run is launched while the workers stop. The embedded Postgres stops too
# if up.sh started it. Logs stay in $MRE_STATE_DIR/topology/logs.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MRE_STATE_DIR=${MRE_STATE_DIR:-$ROOT/.mre/distributed}
TOPOLOGY=$MRE_STATE_DIR/topology
GRACE_S=${MRE_STOP_GRACE_S:-15}

say() { printf '%s down: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

group_alive() { kill -0 -- "-$1" 2>/dev/null; }

# stop NAME...: TERM to each named service's process group, then KILL to any left after the grace period.
stop() {
  local groups=() names=() name pidfile
  for name in "$@"; do
    pidfile=$TOPOLOGY/pids/$name.pid
    [ -f "$pidfile" ] || continue
    local pgid
    pgid=$(cat "$pidfile")
    if group_alive "$pgid"; then
      kill -TERM -- "-$pgid" 2>/dev/null
      groups+=("$pgid")
      names+=("$name")
    fi
    rm -f "$pidfile"
  done
  [ ${#groups[@]} -eq 0 ] && return 0
  local deadline=$((SECONDS + GRACE_S)) left
  while :; do
    left=()
    for pgid in "${groups[@]}"; do group_alive "$pgid" && left+=("$pgid"); done
    [ ${#left[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for pgid in "${left[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null; done
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  say "stopped ${names[*]}"
}

if [ -d "$TOPOLOGY/pids" ]; then
  stop daemon
  stop webserver
  workers=()
  for pidfile in "$TOPOLOGY"/pids/worker*.pid; do
    [ -e "$pidfile" ] && workers+=("$(basename "$pidfile" .pid)")
  done
  [ ${#workers[@]} -gt 0 ] && stop "${workers[@]}"
  stop code-mre_pipeline code-mre_summaries
  stop redis
  # Anything else up.sh may have recorded.
  for pidfile in "$TOPOLOGY"/pids/*.pid; do
    [ -e "$pidfile" ] && stop "$(basename "$pidfile" .pid)"
  done
fi

if [ -f "$TOPOLOGY/embedded-postgres-started" ]; then
  "$ROOT/.venv/bin/mre-pipeline" db stop >/dev/null && say "stopped the embedded Postgres server"
  rm -f "$TOPOLOGY/embedded-postgres-started"
fi
say "nothing of the topology in $TOPOLOGY is running"
