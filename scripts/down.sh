#!/usr/bin/env bash
# Stop everything `scripts/up.sh` started: supervisord and its services, then every run's
# engine, job controller and jobs (they live in sessions of their own).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REANA_BIN:-$ROOT/.venv/bin}
REANA_HOME=${REANA_HOME:-$ROOT/.reana}
PIDFILE="$REANA_HOME/supervisord.pid"

if [ -f "$PIDFILE" ]; then
    PID=$(cat "$PIDFILE")
    if kill -0 "$PID" 2>/dev/null; then
        # SIGTERM: supervisord stops every program (their process groups), then exits.
        kill -TERM "$PID" 2>/dev/null
        for _ in $(seq 1 300); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
fi
if [ -x "$BIN/python" ] && [ -d "$REANA_HOME" ]; then
    REANA_HOME="$REANA_HOME" "$BIN/python" "$ROOT/scripts/stop_runs.py"
fi
echo "REANA is down."
