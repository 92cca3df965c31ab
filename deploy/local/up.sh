#!/usr/bin/env bash
# The distributed topology on one machine, for trying it out and for the `distributed` tests: every service
# is a separate process on loopback, started the way deploy/README.md runs it on separate hosts.
#
#   Postgres         MRE_DATABASE_URL / MRE_DAGSTER_DATABASE_URL, else the project's embedded server
#   Redis            MRE_CELERY_BROKER_URL, else Debian's redis-server on a free port
#   release step     python -m mre_pipeline.instance.release (migrations, Dagster storage, pool limits)
#   code servers     dagster code-server start, one per code location (mre_pipeline, mre_summaries)
#   webserver        dagster-webserver on 127.0.0.1:${MRE_UI_PORT:-3000}
#   daemon           dagster-daemon run with a 1 s sensor loop (sensors, run queue, run monitoring, run retries)
#   run workers      MRE_WORKERS (2) Celery workers, MRE_WORKER_CONCURRENCY (2) runs each
#
# Each service is a "host" of its own: its own DAGSTER_HOME (a copy of deploy/dagster.yaml) and
# MRE_STATE_DIR under $MRE_STATE_DIR/topology/hosts/<name>; they share only Postgres and Redis. Every other
# MRE_* variable (LiveRC URLs, politeness, sensor interval, ...) reaches every service as it is.
# Logs: $MRE_STATE_DIR/topology/logs/<service>.log. `source $MRE_STATE_DIR/topology/env` gives a shell
# the same URLs and DAGSTER_HOME (for `dagster ...` and `mre-pipeline ...`). Stop: deploy/local/down.sh.
# MRE_STATE_DIR defaults to .mre/distributed (apart from `./mre dev`'s .mre).
# shellcheck disable=SC2031  # MRE_STATE_DIR is changed only inside start()'s subshells, on purpose
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/.venv/bin
export MRE_STATE_DIR=${MRE_STATE_DIR:-$ROOT/.mre/distributed}
TOPOLOGY=$MRE_STATE_DIR/topology
WORKERS=${MRE_WORKERS:-2}
CONCURRENCY=${MRE_WORKER_CONCURRENCY:-2}
UI_PORT=${MRE_UI_PORT:-3000}
READY_TIMEOUT_S=${MRE_READY_TIMEOUT_S:-300}

say() { printf '%s up: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf 'up: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$BIN/python" ]; then
  "$ROOT/mre" help >/dev/null   # bootstraps .venv from uv.lock
fi
PROBE=("$BIN/python" "$ROOT/deploy/local/probe.py")

if compgen -G "$TOPOLOGY/pids/*.pid" >/dev/null; then
  for pidfile in "$TOPOLOGY"/pids/*.pid; do
    if kill -0 -- "-$(cat "$pidfile")" 2>/dev/null; then
      die "the topology in $TOPOLOGY is already running ($(basename "$pidfile" .pid) pid $(cat "$pidfile")); stop it with deploy/local/down.sh"
    fi
  done
fi
rm -rf "$TOPOLOGY/pids" "$TOPOLOGY/hosts"
mkdir -p "$TOPOLOGY/pids" "$TOPOLOGY/logs" "$TOPOLOGY/hosts"

# Any failure from here on stops whatever was started.
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "up: failed; stopping what was started (logs in $TOPOLOGY/logs)" >&2
    "$ROOT/deploy/local/down.sh" >&2 || true
  fi
}
trap on_exit EXIT

# start NAME COMMAND...: a service in its own session (so down.sh can stop its whole process group), with
# SIGINT at its default (a script's background jobs inherit it ignored, and Dagster then ignores TERM too),
# its own DAGSTER_HOME and state folder, and its output in logs/NAME.log.
start() {
  local name=$1; shift
  local host=$TOPOLOGY/hosts/$name
  mkdir -p "$host/dagster_home" "$host/state"
  cp "$ROOT/deploy/dagster.yaml" "$host/dagster_home/dagster.yaml"
  (
    cd "$host"
    # shellcheck disable=SC2030  # each service's own DAGSTER_HOME and state folder, in its subshell only
    export DAGSTER_HOME=$host/dagster_home MRE_STATE_DIR=$host/state PATH=$BIN:$PATH
    exec "$BIN/python" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
if os.getpgrp() != os.getpid():  # already a group leader under job control: keep that group
    os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
  ) >"$TOPOLOGY/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$TOPOLOGY/pids/$name.pid"
}

# -- Postgres ------------------------------------------------------------------------------------------
if [ -z "${MRE_DATABASE_URL:-}" ]; then
  if ! "$BIN/mre-pipeline" db status >/dev/null 2>&1; then
    touch "$TOPOLOGY/embedded-postgres-started"
  fi
  "$BIN/mre-pipeline" db start >/dev/null
  MRE_DATABASE_URL=$("$BIN/mre-pipeline" db url)
  MRE_DAGSTER_DATABASE_URL=${MRE_DAGSTER_DATABASE_URL:-$("$BIN/mre-pipeline" db url --dagster)}
  say "Postgres: the embedded server in $MRE_STATE_DIR/pgdata"
elif [ -z "${MRE_DAGSTER_DATABASE_URL:-}" ]; then
  MRE_DAGSTER_DATABASE_URL=$("$BIN/mre-pipeline" db url --dagster)
fi
export MRE_DATABASE_URL MRE_DAGSTER_DATABASE_URL

# -- Redis ---------------------------------------------------------------------------------------------
if [ -z "${MRE_CELERY_BROKER_URL:-}" ]; then
  command -v redis-server >/dev/null || die "redis-server is not installed (Debian: apt-get install -y redis-server), or set MRE_CELERY_BROKER_URL"
  redis_port=$("${PROBE[@]}" free-port)
  mkdir -p "$TOPOLOGY/redis"
  start redis redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$TOPOLOGY/redis" \
    --save "" --appendonly no --protected-mode yes
  export MRE_CELERY_BROKER_URL=redis://127.0.0.1:$redis_port/0
fi
"${PROBE[@]}" redis "$MRE_CELERY_BROKER_URL" 30
say "Redis: $MRE_CELERY_BROKER_URL"

# -- release step: migrations first --------------------------------------------------------------------
mkdir -p "$TOPOLOGY/hosts/release/dagster_home"
cp "$ROOT/deploy/dagster.yaml" "$TOPOLOGY/hosts/release/dagster_home/dagster.yaml"
DAGSTER_HOME=$TOPOLOGY/hosts/release/dagster_home "$BIN/python" -m mre_pipeline.instance.release \
  >"$TOPOLOGY/logs/release.log" 2>&1 || die "the release step failed: $(tail -n 3 "$TOPOLOGY/logs/release.log")"
say "release step done (warehouse and Dagster storage migrated, pool limits set)"

# -- code servers, webserver, daemon -------------------------------------------------------------------
export MRE_PIPELINE_CODE_SERVER_HOST=127.0.0.1 MRE_SUMMARIES_CODE_SERVER_HOST=127.0.0.1
MRE_PIPELINE_CODE_SERVER_PORT=$("${PROBE[@]}" free-port)
MRE_SUMMARIES_CODE_SERVER_PORT=$("${PROBE[@]}" free-port)
export MRE_PIPELINE_CODE_SERVER_PORT MRE_SUMMARIES_CODE_SERVER_PORT
start code-mre_pipeline dagster code-server start -h 127.0.0.1 -p "$MRE_PIPELINE_CODE_SERVER_PORT" \
  -m mre_pipeline.definitions --location-name mre_pipeline
start code-mre_summaries dagster code-server start -h 127.0.0.1 -p "$MRE_SUMMARIES_CODE_SERVER_PORT" \
  -m mre_pipeline.summaries_definitions --location-name mre_summaries

# Workers start meanwhile: they load the same code (in their own processes) while the code servers do.
for i in $(seq 1 "$WORKERS"); do
  start "worker$i" celery -A mre_pipeline.instance.celery_worker worker -n "worker$i@%h" \
    --concurrency "$CONCURRENCY" -Q dagster --disable-prefetch --without-gossip --without-mingle \
    --loglevel INFO
done

"${PROBE[@]}" port 127.0.0.1 "$MRE_PIPELINE_CODE_SERVER_PORT" "$READY_TIMEOUT_S"
"${PROBE[@]}" port 127.0.0.1 "$MRE_SUMMARIES_CODE_SERVER_PORT" "$READY_TIMEOUT_S"
say "code servers: mre_pipeline on :$MRE_PIPELINE_CODE_SERVER_PORT, mre_summaries on :$MRE_SUMMARIES_CODE_SERVER_PORT"

start webserver dagster-webserver -w "$ROOT/deploy/workspace.yaml" -h 127.0.0.1 -p "$UI_PORT"
start daemon python -m mre_pipeline.instance.daemon run -w "$ROOT/deploy/workspace.yaml"

cat >"$TOPOLOGY/env" <<EOF
# Written by deploy/local/up.sh: \`source\` it for Dagster's and the pipeline's commands on this topology.
export MRE_STATE_DIR='$MRE_STATE_DIR'
export MRE_DATABASE_URL='$MRE_DATABASE_URL'
export MRE_DAGSTER_DATABASE_URL='$MRE_DAGSTER_DATABASE_URL'
export MRE_CELERY_BROKER_URL='$MRE_CELERY_BROKER_URL'
export MRE_PIPELINE_CODE_SERVER_HOST=127.0.0.1 MRE_PIPELINE_CODE_SERVER_PORT=$MRE_PIPELINE_CODE_SERVER_PORT
export MRE_SUMMARIES_CODE_SERVER_HOST=127.0.0.1 MRE_SUMMARIES_CODE_SERVER_PORT=$MRE_SUMMARIES_CODE_SERVER_PORT
export DAGSTER_HOME='$TOPOLOGY/hosts/release/dagster_home'
export MRE_UI_URL='http://127.0.0.1:$UI_PORT'
EOF

"${PROBE[@]}" http "http://127.0.0.1:$UI_PORT/server_info" "$READY_TIMEOUT_S"
workers=$("${PROBE[@]}" workers "$MRE_CELERY_BROKER_URL" "$WORKERS" "$READY_TIMEOUT_S")
"${PROBE[@]}" daemon "$READY_TIMEOUT_S"
say "run workers: $workers ($CONCURRENCY runs each)"
say "ready: Dagster UI http://127.0.0.1:$UI_PORT; logs in $TOPOLOGY/logs; stop with deploy/local/down.sh"
