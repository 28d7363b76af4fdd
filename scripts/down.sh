#!/usr/bin/env bash
# Stop what `scripts/up.sh` started for REANA_HOME and nothing else: supervisord and its services,
# then every run's engine, job controller and jobs, found from the platform's own records
# (scripts/stop_platform.py says how).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REANA_BIN:-$ROOT/.venv/bin}
REANA_HOME=${REANA_HOME:-$ROOT/.reana}

if [ -x "$BIN/python" ] && [ -d "$REANA_HOME" ]; then
    REANA_HOME="$REANA_HOME" "$BIN/python" "$ROOT/scripts/stop_platform.py"
elif [ -f "$REANA_HOME/supervisord.pid" ]; then
    echo "No $BIN/python to stop REANA with: run 'make install' first." >&2
    exit 1
fi
echo "REANA is down."
