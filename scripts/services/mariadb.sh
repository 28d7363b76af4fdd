#!/bin/bash
# Start/stop/check MariaDB on 127.0.0.1:3306 (root via the unix socket); slurmdbd stores accounting there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case ${1:-status} in
  start)
    if port_open 127.0.0.1 3306; then log "mariadb: already up"; exit 0; fi
    need_root "mariadb.sh start"
    need_cmd mariadbd
    install -d -o mysql -g mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- \
      --user=mysql --bind-address=127.0.0.1 --port=3306
    wait_port 127.0.0.1 3306 60 || die "mariadb did not open 127.0.0.1:3306 within 60 s"
    log "mariadb: started"
    ;;
  stop)
    mariadb-admin shutdown 2>/dev/null || true
    ;;
  status)
    port_open 127.0.0.1 3306 && echo "mariadb: up" || { echo "mariadb: down"; exit 1; }
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
