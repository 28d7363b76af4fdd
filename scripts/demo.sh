#!/usr/bin/env bash
# `make demo`: run examples/resonance-fit end to end with reana-client and show what it computed
# and where: its status and logs, its outputs (the PNG figure too) downloaded into a folder it
# names, the run's workspace, and how to look again.
#
# A platform already running for REANA_HOME (`make up`) is used and left running, its runs
# untouched; otherwise the demo starts one and stops it at the end (its data stays in REANA_HOME).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export REANA_HOME=${REANA_HOME:-$ROOT/.reana}
EXAMPLE=${REANA_DEMO_EXAMPLE:-$ROOT/examples/resonance-fit}
NAME=${REANA_DEMO_NAME:-resonance-fit}
OUTPUT=${REANA_DEMO_OUTPUT:-$ROOT/demo-output}/$NAME
PY=$ROOT/.venv/bin/python

# The venv is trusted only once `make install` finished (its last step writes the marker).
[ -f .venv/.reana-installed ] || make install

client() {
    "$PY" -W ignore -c \
        'import sys; from reana_client.cli import cli; sys.argv[0] = "reana-client"; cli()' "$@"
}

if [ -z "${REANA_CONTAINER_RUNTIME:-}${REANA_LOCAL_JOB_ISOLATION:-}" ] && ! command -v bwrap > /dev/null; then
    echo "WARNING: bubblewrap (bwrap) is not installed, so the demo's jobs run UNSANDBOXED on this" >&2
    echo "         host as $(id -un), able to read everything that user can. Install bubblewrap" >&2
    echo "         (apt-get install bubblewrap) to isolate them." >&2
    export REANA_LOCAL_JOB_ISOLATION=none
fi
PIDFILE=$REANA_HOME/supervisord.pid
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "== REANA is already running for $REANA_HOME: the demo uses it and leaves it running."
    STARTED=no
else
    STARTED=yes
    trap '"$ROOT/scripts/down.sh"' EXIT
    "$ROOT/scripts/up.sh"
fi
# shellcheck disable=SC1091
source "$REANA_HOME/env"

cd "$EXAMPLE"
echo "== reana-client run -w $NAME -p events=6000"
client run -w "$NAME" -p events=6000
# The run just created (the latest of that name): its full name, and its workspace.
read -r RUN WORKSPACE < <("$PY" - "$REANA_SERVER_URL" "$NAME" <<'PY'
import json, os, sys, urllib.request
from pathlib import Path
url = f"{sys.argv[1]}/api/workflows/{sys.argv[2]}/status"
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ["REANA_ACCESS_TOKEN"]})
run = json.load(urllib.request.urlopen(request, timeout=30))
shared = Path(os.environ.get("SHARED_VOLUME_PATH") or Path(os.environ["REANA_HOME"]) / "shared")
folder = next((str(p) for p in shared.glob(f"users/*/workflows/{run['id']}")), f"(run {run['id']})")
print(run["name"], folder)
PY
)
status=""
for _ in $(seq 1 600); do
    status=$(client status -w "$RUN" --format status 2>/dev/null | tail -n 1 | tr -d ' ')
    case "$status" in
        finished|failed|stopped|deleted) break ;;
    esac
    sleep 0.5
done
echo "== reana-client status -w $RUN"
client status -w "$RUN"
echo "== reana-client logs -w $RUN"
client logs -w "$RUN"
[ "$status" = finished ] || { echo "demo run $RUN ended $status" >&2; exit 1; }

rm -rf "$OUTPUT"
mkdir -p "$OUTPUT"
client download -w "$RUN" -o "$OUTPUT" > /dev/null
echo
echo "== What $RUN computed"
echo "Report (results/report.txt):"
sed 's/^/    /' "$OUTPUT/results/report.txt"
echo
echo "Its outputs, downloaded into $OUTPUT:"
(cd "$OUTPUT" && find . -type f | sort | while read -r file; do
    printf '    %-24s %8s bytes\n' "${file#./}" "$(stat -c %s "$file")"
done)
echo "The figure: $OUTPUT/results/plot.png (open it with any image viewer)."
echo "The run's workspace on the platform: $WORKSPACE"
echo
echo "== Look again"
if [ "$STARTED" = yes ]; then
    echo "    make up                     # the demo stops the platform; its runs stay in $REANA_HOME"
fi
echo "    source $REANA_HOME/env"
echo "    .venv/bin/reana-client ls -w $RUN"
echo "    .venv/bin/reana-client download -w $RUN results/plot.png -o /some/folder"
echo "== demo finished"
