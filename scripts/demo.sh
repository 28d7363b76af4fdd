#!/usr/bin/env bash
# `make demo`: start the platform, run examples/resonance-fit with reana-client, show its
# status, logs and downloaded outputs, stop the platform.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export REANA_HOME=${REANA_HOME:-$ROOT/.reana}
EXAMPLE=${REANA_DEMO_EXAMPLE:-$ROOT/examples/resonance-fit}
NAME=${REANA_DEMO_NAME:-resonance-fit}
REF_VENV=$ROOT/.ci/venvs/reana-client-0.9.6

[ -x .venv/bin/python ] || make install

# The project's own reana-client when it is there, else the real reana-client 0.9.6 (run
# through its python: a venv built elsewhere and moved has stale script shebangs).
if .venv/bin/reana-client --help 2>/dev/null | grep -q "run "; then
    CLIENT_PY=$ROOT/.venv/bin/python
else
    mkdir -p "$ROOT/.ci/venvs"
    (
        flock 9
        if ! "$REF_VENV/bin/python" -c "import reana_client.cli" 2>/dev/null; then
            python3 -m venv --clear "$REF_VENV"
            "$REF_VENV/bin/pip" install -q reana-client==0.9.6
        fi
    ) 9> "$ROOT/.ci/venvs/reana-client-0.9.6.lock"
    CLIENT_PY=$REF_VENV/bin/python
fi
client() {
    "$CLIENT_PY" -W ignore -c \
        'import sys; from reana_client.cli import cli; sys.argv[0] = "reana-client"; cli()' "$@"
}

if [ -z "${REANA_CONTAINER_RUNTIME:-}${REANA_LOCAL_JOB_ISOLATION:-}" ] && ! command -v bwrap > /dev/null; then
    echo "WARNING: bubblewrap (bwrap) is not installed, so the demo's jobs run UNSANDBOXED on this" >&2
    echo "         host as $(id -un), able to read everything that user can. Install bubblewrap" >&2
    echo "         (apt-get install bubblewrap) to isolate them." >&2
    export REANA_LOCAL_JOB_ISOLATION=none
fi
trap '"$ROOT/scripts/down.sh"' EXIT
"$ROOT/scripts/up.sh"
# shellcheck disable=SC1091
source "$REANA_HOME/env"

cd "$EXAMPLE"
echo "== reana-client run -w $NAME (client: $CLIENT_PY)"
client run -w "$NAME" -p events=6000
RUN=$NAME  # the latest run of that name
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
OUT=$(mktemp -d)
echo "== reana-client download -w $RUN -o $OUT"
client download -w "$RUN" -o "$OUT"
for file in "$OUT"/results/*; do
    echo "---- ${file#"$OUT"/}"
    cat "$file"
done
rm -rf "$OUT"
[ "$status" = finished ] || { echo "demo run ended $status" >&2; exit 1; }
echo "== demo finished"
