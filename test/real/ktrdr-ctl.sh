#!/usr/bin/env bash
# Restarts one process of the real KTRDR that /work/shared/ktrdr/real/start.sh started, for `npm run test:real`:
#   ktrdr-ctl.sh kill-backend | start-backend | kill-worker | start-worker
# Only the pid recorded in $ROOT/pids for that role is signalled; the process started in its place is recorded there
# too, so stop.sh still stops everything. Env as start.sh: ROOT, KTRDR_PORT, TRAIN_PORT, KTRDR_DB_NAME.
# A process started here runs in its own session (setsid, which execs in place, so $! is its pid): otherwise it
# would share the test runner's process group and die with an interrupted `npm run test:real`, leaving start.sh's
# pids file naming a dead backend.
set -euo pipefail
ROOT=${ROOT:-${TMPDIR:-/tmp}/real-ktrdr}
SRC=$ROOT/src
PORT=${KTRDR_PORT:-18000}
TRAIN_PORT=${TRAIN_PORT:-15005}
DB=${KTRDR_DB_NAME:-ktrdr_real}
PIDS=$ROOT/pids
LOGS=$ROOT/logs
PY=$ROOT/venv/bin
export PYTHONPATH=$SRC KTRDR_API_ENVIRONMENT=development KTRDR_LOG_LEVEL=INFO
export KTRDR_DB_HOST=127.0.0.1 KTRDR_DB_PORT=5432 KTRDR_DB_NAME=$DB KTRDR_DB_USER=postgres KTRDR_DB_PASSWORD=trust DB_HOST=127.0.0.1
export KTRDR_AUTH_JWT_SECRET=local-dev-secret-minimum-32-characters-long
export KTRDR_IB_HOST_ENABLED=false KTRDR_TRAINING_HOST_ENABLED=false KTRDR_OTEL_ENABLED=false
export KTRDR_CHECKPOINT_DIR=$SRC/data/checkpoints KTRDR_DATA_DIR=$SRC/data
export KTRDR_API_CLIENT_BASE_URL=http://127.0.0.1:$PORT/api/v1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MKL_NUM_THREADS=${MKL_NUM_THREADS:-2}

# The recorded pid listening on a port (start.sh records pids in start order; the port tells the role).
pid_on() {
  local port=$1 p
  for p in $(cat "$PIDS"); do
    if kill -0 "$p" 2>/dev/null && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "--port $port"; then echo "$p"; return; fi
  done
}

stop_port() {
  local port=$1 signal=$2 p
  p=$(pid_on "$port")
  [ -n "$p" ] || { echo "no recorded process on port $port" >&2; exit 1; }
  kill "-$signal" "$p"
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  grep -v "^$p\$" "$PIDS" > "$PIDS.tmp" || true
  mv "$PIDS.tmp" "$PIDS"
}

cd "$SRC"
case "${1:-}" in
  kill-backend) stop_port "$PORT" TERM ;;
  start-backend)
    setsid nohup "$PY/uvicorn" ktrdr.api.main:app --host 127.0.0.1 --port "$PORT" >> "$LOGS/backend.log" 2>&1 &
    echo $! >> "$PIDS"
    for _ in $(seq 1 60); do curl -sf -m 3 "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && exit 0; sleep 2; done
    echo "backend did not come back" >&2; exit 1 ;;
  kill-worker) stop_port "$TRAIN_PORT" KILL ;;
  start-worker)
    WORKER_TYPE=training KTRDR_WORKER_PORT=$TRAIN_PORT KTRDR_WORKER_PUBLIC_BASE_URL=http://127.0.0.1:$TRAIN_PORT \
      setsid nohup "$PY/uvicorn" ktrdr.training.training_worker:app --host 127.0.0.1 --port "$TRAIN_PORT" >> "$LOGS/training-worker-$TRAIN_PORT.log" 2>&1 &
    echo $! >> "$PIDS" ;;
  *) echo "usage: ktrdr-ctl.sh kill-backend|start-backend|kill-worker|start-worker" >&2; exit 2 ;;
esac
