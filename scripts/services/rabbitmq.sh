#!/bin/bash
# Start/stop/check RabbitMQ on 127.0.0.1:5672 (guest/guest from loopback).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case ${1:-status} in
  start)
    if port_open 127.0.0.1 5672; then log "rabbitmq: already up"; exit 0; fi
    need_root "rabbitmq.sh start"
    need_cmd rabbitmq-server
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    rabbitmq-server -detached
    # await_startup returns at once before the node registers with epmd: poll the port
    wait_port 127.0.0.1 5672 90 || die "rabbitmq did not open 127.0.0.1:5672 within 90 s"
    log "rabbitmq: started"
    ;;
  stop)
    rabbitmqctl stop >/dev/null 2>&1 || true
    ;;
  status)
    port_open 127.0.0.1 5672 && echo "rabbitmq: up" || { echo "rabbitmq: down"; exit 1; }
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
