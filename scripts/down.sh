#!/usr/bin/env bash
# Stop everything `scripts/up.sh` started: honcho and its services, then every run's
# engine, job controller and jobs (they live in sessions of their own).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REANA_BIN:-$ROOT/.venv/bin}
REANA_HOME=${REANA_HOME:-$ROOT/.reana}
PIDFILE="$REANA_HOME/platform.pid"

if [ -f "$PIDFILE" ]; then
    PID=$(cat "$PIDFILE")
    if kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        # Whatever is left in honcho's process group (it was started with setsid).
        kill -KILL -- "-$PID" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
fi
if [ -x "$BIN/python" ] && [ -d "$REANA_HOME" ]; then
    REANA_HOME="$REANA_HOME" "$BIN/python" "$ROOT/scripts/stop_runs.py"
fi
echo "REANA is down."
