#!/usr/bin/env bash
# Start the whole platform in the background under supervisord (docs/adr/0004).
#
# Embedded profile (SQLite + file broker under REANA_HOME) unless REANA_SQLALCHEMY_DATABASE_URI
# and/or RABBIT_MQ are set. REANA_HOME defaults to <repo>/.reana. Ports: REANA_SERVER_PORT
# (30080) and REANA_WORKFLOW_CONTROLLER_PORT (30081). Checks that local jobs can be sandboxed
# (bubblewrap), creates the schema, an admin user the first time, writes $REANA_HOME/env
# (REANA_SERVER_URL, REANA_ACCESS_TOKEN) and waits for /api/ping.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REANA_BIN:-$ROOT/.venv/bin}
[ -x "$BIN/supervisord" ] || { echo "No platform in $BIN: run 'make install' first." >&2; exit 1; }
export REANA_HOME=${REANA_HOME:-$ROOT/.reana}
mkdir -p "$REANA_HOME/logs"
REANA_HOME=$(cd "$REANA_HOME" && pwd)
export REANA_SERVER_PORT=${REANA_SERVER_PORT:-30080}
export REANA_WORKFLOW_CONTROLLER_PORT=${REANA_WORKFLOW_CONTROLLER_PORT:-30081}
export REANA_WORKFLOW_CONTROLLER_URL=${REANA_WORKFLOW_CONTROLLER_URL:-http://127.0.0.1:$REANA_WORKFLOW_CONTROLLER_PORT}
export REANA_SERVER_INTERNAL_URL=${REANA_SERVER_INTERNAL_URL:-http://127.0.0.1:$REANA_SERVER_PORT}
export PATH="$BIN:$PATH"
SERVER_URL="http://127.0.0.1:$REANA_SERVER_PORT"
PIDFILE="$REANA_HOME/supervisord.pid"
CONF="$REANA_HOME/supervisord.conf"
ENVFILE="$REANA_HOME/env"

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "REANA is already running (pid $(cat "$PIDFILE")); source $ENVFILE"
    exit 0
fi

# A port another process holds would only show after supervisord's retries: say so at once.
"$BIN/python" - "$REANA_SERVER_PORT" REANA_SERVER_PORT "$REANA_WORKFLOW_CONTROLLER_PORT" \
    REANA_WORKFLOW_CONTROLLER_PORT <<'PY' || exit 1
import socket, sys
for port, variable in zip(sys.argv[1::2], sys.argv[2::2]):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind(("127.0.0.1", int(port)))
        except OSError as error:
            sys.exit(f"REANA not started: port {port} ({variable}) on 127.0.0.1 is in use "
                     f"({error.strerror}); stop what holds it or set {variable} to a free port.")
PY

if [ -z "${REANA_SECRET_KEY:-}" ]; then
    if [ ! -s "$REANA_HOME/secret-key" ]; then
        (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_hex(32))' \
            > "$REANA_HOME/secret-key")
    fi
    REANA_SECRET_KEY=$(cat "$REANA_HOME/secret-key")
    export REANA_SECRET_KEY
fi

# Local jobs run in a bubblewrap sandbox unless REANA_LOCAL_JOB_ISOLATION=none: refuse to start
# when the sandbox cannot work here rather than fail every job later.
"$BIN/python" -m reana_job_controller.job_managers.sandbox > "$REANA_HOME/logs/sandbox.log" 2>&1 || {
    cat "$REANA_HOME/logs/sandbox.log" >&2
    echo "REANA not started: local jobs cannot be isolated (see above)." >&2
    exit 1
}

"$BIN/reana-db" init > "$REANA_HOME/logs/migrations.log" 2>&1 || {
    cat "$REANA_HOME/logs/migrations.log" >&2
    exit 1
}

if [ ! -s "$REANA_HOME/admin-token" ]; then
    ADMIN_EMAIL=${REANA_ADMIN_EMAIL:-admin@reana.local}
    # The token (the last word create-admin-user prints) never goes to a log.
    (umask 077 && "$BIN/reana-admin" create-admin-user --email "$ADMIN_EMAIL" \
        > "$REANA_HOME/admin-token.new" 2> "$REANA_HOME/logs/admin.log") || {
        cat "$REANA_HOME/logs/admin.log" >&2
        rm -f "$REANA_HOME/admin-token.new"
        exit 1
    }
    (umask 077 && tail -n 1 "$REANA_HOME/admin-token.new" | awk '{print $NF}' \
        > "$REANA_HOME/admin-token")
    rm -f "$REANA_HOME/admin-token.new"
fi
# The env file holds the admin's token: readable by the platform's user only (also when an
# older version left it, or the key files, readable by others).
(umask 077 && cat > "$ENVFILE" <<ENV
export REANA_SERVER_URL=$SERVER_URL
export REANA_ACCESS_TOKEN=$(cat "$REANA_HOME/admin-token")
ENV
)
chmod 600 "$ENVFILE" "$REANA_HOME/admin-token"
if [ -f "$REANA_HOME/secret-key" ]; then chmod 600 "$REANA_HOME/secret-key"; fi

# supervisord's socket lives in /tmp: a Unix socket path must stay short.
SOCKET_ID=$(printf '%s' "$REANA_HOME" | sha256sum | cut -c1-12)
ROOT="$ROOT" BIN="$BIN" SOCKET_ID="$SOCKET_ID" SOCKET="/tmp/reana-supervisor-$SOCKET_ID.sock" \
    "$BIN/python" -c 'import os, string, sys
print(string.Template(sys.stdin.read()).safe_substitute(os.environ))' \
    < "$ROOT/deploy/local/supervisord.conf.template" > "$CONF"
rm -f "$PIDFILE"
# Multiprocess Prometheus metrics (docs/adr/0027): each service group starts with empty files.
rm -rf "$REANA_HOME/metrics"
mkdir -p "$REANA_HOME/metrics/server" "$REANA_HOME/metrics/controller"
# supervisord daemonizes itself; its children inherit this environment (database, broker, ports).
"$BIN/supervisord" -c "$CONF"
for _ in $(seq 1 100); do
    [ -s "$PIDFILE" ] && break
    sleep 0.05
done

for _ in $(seq 1 300); do
    if "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$SERVER_URL/api/ping" > /dev/null 2>&1; then
        echo "REANA is up at $SERVER_URL (logs: $REANA_HOME/logs/; API reference: $SERVER_URL/api/docs)"
        echo "Run: source $ENVFILE"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
echo "REANA did not come up; last lines of its logs in $REANA_HOME/logs:" >&2
tail -n 15 "$REANA_HOME"/logs/*.log >&2 || true
"$ROOT/scripts/down.sh" || true
exit 1
