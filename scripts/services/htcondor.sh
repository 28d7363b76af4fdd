#!/bin/bash
# The HTCondor double (htcondor-double/): its schedd as a system daemon and the condor_* tools
# on every user's PATH (/usr/local/bin), so jobs also reach it through SSH (user reanaslurm on the
# sshd of sshd.sh) as on a real submit node. Stdlib-only, run by Debian's /usr/bin/python3.
#   htcondor.sh up | down | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${REANA_HTCONDOR_STATE:-/var/lib/reana-htcondor}
PIDFILE=/run/reana-htcondor-schedd.pid
TOOLS="condor_submit condor_q condor_history condor_rm condor_hold condor_release condor_vacate_job"
PYTHON=/usr/bin/python3

answers() { PYTHONPATH=$STATE/lib REANA_HTCONDOR_SOCKET=$STATE/schedd.sock \
  $PYTHON -m htcondor_double.cli condor_q -allusers >/dev/null 2>&1; }

up() {
  need_root "htcondor.sh up"
  [[ -x $PYTHON ]] || die "$PYTHON is missing"
  install -d -m 0755 "$STATE" "$STATE/lib"
  local sum
  sum=$(cat "$ROOT"/htcondor-double/htcondor_double/*.py | sha256sum | cut -d' ' -f1)
  if pid_alive $PIDFILE python3 && [[ -s $STATE/lib.sha256 && $(cat "$STATE/lib.sha256") == "$sum" ]] &&
    answers; then
    log "htcondor double: schedd already running ($STATE/schedd.sock)"
    return 0
  fi
  stop_pidfile python3 $PIDFILE
  rm -rf "$STATE/lib/htcondor_double"
  cp -r "$ROOT/htcondor-double/htcondor_double" "$STATE/lib/"
  rm -rf "$STATE/lib/htcondor_double/__pycache__"
  chmod -R a+rX "$STATE/lib"
  echo "$sum" >"$STATE/lib.sha256"
  local tool
  for tool in $TOOLS; do
    printf '#!/bin/sh\n# HTCondor double (reana htcondor-double); see scripts/services/htcondor.sh\nPYTHONPATH=%s exec %s -m htcondor_double.cli %s "$@"\n' \
      "$STATE/lib" "$PYTHON" "$tool" >"/usr/local/bin/$tool"
    chmod 0755 "/usr/local/bin/$tool"
  done
  PYTHONPATH=$STATE/lib nohup $PYTHON -m htcondor_double.schedd --state "$STATE" \
    >>"$STATE/schedd.log" 2>&1 </dev/null &
  echo $! >$PIDFILE
  local i
  for ((i = 0; i < 100; i++)); do
    answers && { log "htcondor double: schedd up ($STATE/schedd.sock, tools in /usr/local/bin)"; return 0; }
    sleep 0.1
  done
  die "the HTCondor double's schedd did not answer (see $STATE/schedd.log)"
}

down() {
  stop_pidfile python3 $PIDFILE
}

case ${1:-status} in
  up | start) up ;;
  down | stop) down ;;
  status) answers && echo "htcondor double: up" || { echo "htcondor double: down"; exit 1; } ;;
  *) die "usage: $0 up|down|status" ;;
esac
