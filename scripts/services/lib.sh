# Shared helpers for the service scripts (sourced, not run).
# shellcheck shell=bash

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_port HOST PORT SECONDS: wait until the port accepts connections.
wait_port() {
  local host=$1 port=$2 limit=$3 i
  for ((i = 0; i < limit * 10; i++)); do
    port_open "$host" "$port" && return 0
    sleep 0.1
  done
  return 1
}

# pid_alive PIDFILE [NAME]: true when the pidfile names a running process (called NAME, if given:
# a stale pidfile left by a killed daemon may name a pid that was reused since).
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(cat "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -z ${2:-} ]] || [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]]
}

# stop_pidfile NAME PIDFILE: TERM the process in PIDFILE (only if it is called NAME) and wait.
stop_pidfile() {
  local name=$1 file=$2 pid i
  if ! pid_alive "$file" "$name"; then
    log "$name: not running"
    return 0
  fi
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || { log "$name: stopped (pid $pid)"; rm -f "$file"; return 0; }
    sleep 0.1
  done
  log "$name: still running after 15 s, sending KILL to pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

need_root() { [[ $(id -u) -eq 0 ]] || die "$1 needs root (it starts system daemons)"; }

need_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] ||
      die "'$cmd' is missing: apt-get install the packages listed in scripts/services/packages.txt"
  done
}
