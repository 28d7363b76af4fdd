#!/bin/bash
# Start/stop/check the machine's PostgreSQL cluster on 127.0.0.1:5432.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cluster_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1; }

case ${1:-status} in
  start)
    if port_open 127.0.0.1 5432; then log "postgresql: already up"; exit 0; fi
    need_root "postgres.sh start"
    version=$(cluster_version)
    [[ -n $version ]] || die "no PostgreSQL cluster in /etc/postgresql (apt-get install postgresql)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_port 127.0.0.1 5432 30 || die "postgresql did not open 127.0.0.1:5432"
    log "postgresql: started ($version/main)"
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
