#!/bin/bash
# Start/stop/check the machine's PostgreSQL cluster on 127.0.0.1:5432.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

# The test suite runs several whole platforms (each with its own pools) against one server:
# 100 connections (Debian's default) is not enough, so raise it once and restart.
ensure_connections() {
  local current
  current=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc 'show max_connections' 2>/dev/null || echo 0)
  if ((current < 300)); then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'ALTER SYSTEM SET max_connections = 300'
    pg_ctlcluster --skip-systemctl-redirect "$1" main restart
    wait_port 127.0.0.1 5432 30 || die "postgresql did not come back after raising max_connections"
    log "postgresql: max_connections raised from $current to 300"
  fi
}

case ${1:-status} in
  start)
    if port_open 127.0.0.1 5432; then
      log "postgresql: already up"
      ensure_connections "$(cluster_version)"
      exit 0
    fi
    need_root "postgres.sh start"
    version=$(cluster_version)
    [[ -n $version ]] || die "no PostgreSQL cluster in /etc/postgresql (apt-get install postgresql)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_port 127.0.0.1 5432 30 || die "postgresql did not open 127.0.0.1:5432"
    log "postgresql: started ($version/main)"
    ensure_connections "$version"
    ;;
  stop)
    version=$(cluster_version)
    [[ -n $version ]] && pg_ctlcluster --skip-systemctl-redirect "$version" main stop || true
    ;;
  status)
    port_open 127.0.0.1 5432 && echo "postgresql: up" || { echo "postgresql: down"; exit 1; }
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
