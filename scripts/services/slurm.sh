#!/bin/bash
# A real single-node Slurm for tests: munge, slurmdbd on MariaDB, slurmctld, slurmd.
#   slurm.sh up      start what is not running (idempotent), wait until the node is idle
#   slurm.sh down    stop the Slurm daemons and munged this script started
#   slurm.sh status  exit 0 when the node answers sinfo
# Configuration comes from deploy/slurm/ and is installed to /etc/slurm (the Debian default
# path, so sbatch/squeue/sacct work without SLURM_CONF, also for the SSH test user).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$ROOT/deploy/slurm
ETC=/etc/slurm
MARKER="# managed by reana deploy/slurm"
CLUSTER=reana
DB_NAME=reana_slurm_acct_db
DB_USER=slurm
DB_PASS=reana-slurm-test
MUNGE_PID=/run/munge/munged.pid

node_state() { sinfo -h -n localhost -o '%t' 2>/dev/null | head -1; }

install_conf() {
  local name=$1 mode=$2 target=$ETC/$1 tmp
  if [[ -e $target ]] && ! head -1 "$target" | grep -qF "$MARKER"; then
    [[ ${REANA_SLURM_FORCE:-0} == 1 ]] ||
      die "$target exists and is not ours; set REANA_SLURM_FORCE=1 to replace it"
  fi
  tmp=$(mktemp)
  { echo "$MARKER (do not edit here)"; cat "$SRC/$name"; } >"$tmp"
  if ! cmp -s "$tmp" "$target" 2>/dev/null; then
    install -D -m "$mode" -o slurm -g slurm "$tmp" "$target"
    CONF_CHANGED=1
  fi
  rm -f "$tmp"
}

setup_accounting_db() {
  "$(dirname "$0")/mariadb.sh" start
  mariadb --protocol=socket -u root <<SQL
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
SQL
}

up() {
  need_root "slurm.sh up"
  need_cmd munged slurmctld slurmd slurmdbd sbatch sacctmgr mariadb
  local t0=$SECONDS i state
  CONF_CHANGED=0
  install_conf slurm.conf 0644
  install_conf slurmdbd.conf 0600
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o slurm -g slurm /var/lib/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
  [[ -s /etc/munge/munge.key ]] || die "/etc/munge/munge.key is missing (reinstall munge)"

  if pid_alive $MUNGE_PID munged; then log "munged: already running"; else
    runuser -u munge -- /usr/sbin/munged
    log "munged: started"
  fi
  setup_accounting_db
  if pid_alive /run/slurmdbd.pid slurmdbd; then log "slurmdbd: already running"; else
    slurmdbd
    wait_port 127.0.0.1 6819 20 || die "slurmdbd did not listen on 6819 (see /var/log/slurm/slurmdbd.log)"
    log "slurmdbd: started"
  fi
  if ! sacctmgr -n -P list cluster "$CLUSTER" format=cluster 2>/dev/null | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
    log "slurmdbd: cluster $CLUSTER registered"
  fi
  if pid_alive /run/slurmctld.pid slurmctld; then
    log "slurmctld: already running"
    if [[ $CONF_CHANGED == 1 ]]; then scontrol reconfigure && log "slurmctld: reconfigured"; fi
  else
    slurmctld
    log "slurmctld: started"
  fi
  if pid_alive /run/slurmd.pid slurmd; then log "slurmd: already running"; else
    slurmd -N localhost
    log "slurmd: started"
  fi
  for ((i = 0; i < 300; i++)); do
    state=$(node_state)
    case $state in
      idle | mix | alloc) break ;;
      down* | drain* | drng*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
    esac
    sleep 0.1
  done
  state=$(node_state)
  [[ $state =~ ^(idle|mix|alloc)$ ]] || die "slurm node is '$state' after 30 s (see /var/log/slurm/)"
  log "slurm: node localhost $state, up in $((SECONDS - t0)) s"
}

down() {
  stop_pidfile slurmd /run/slurmd.pid
  stop_pidfile slurmctld /run/slurmctld.pid
  stop_pidfile slurmdbd /run/slurmdbd.pid
  stop_pidfile munged $MUNGE_PID
}

status() {
  local state
  state=$(node_state || true)
  if [[ $state =~ ^(idle|mix|alloc)$ ]]; then echo "slurm: up (node $state)"; else
    echo "slurm: down"
    return 1
  fi
}

case ${1:-status} in
  up | start) up ;;
  down | stop) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
