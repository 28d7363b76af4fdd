#!/bin/bash
# A local "login node" for Slurm's SSH mode: sshd on 127.0.0.1:2222, key auth only,
# for the test user reanaslurm (created idempotently). The client key is
# $STATE/client_ed25519 (root only); tests and benchmarks read it from there.
#   sshd.sh up | down | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${REANA_SLURM_SSH_STATE:-/var/lib/reana-slurm/ssh}
SSH_USER=${REANA_SLURM_SSH_USER:-reanaslurm}
PORT=2222
PIDFILE=/run/reana-sshd.pid

up() {
  need_root "sshd.sh up"
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd is missing (apt-get install openssh-server)"
  install -d -m 0700 "$STATE"
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$SSH_USER"
    log "sshd: user $SSH_USER created"
  fi
  # useradd leaves the account locked ('!'), which sshd refuses without PAM
  if passwd -S "$SSH_USER" | awk '{exit !($2 == "L")}'; then usermod -p '*' "$SSH_USER"; fi
  [[ -s $STATE/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/ssh_host_ed25519_key"
  [[ -s $STATE/client_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C "reana-slurm-test" -f "$STATE/client_ed25519"
  local home
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  install -d -m 0700 -o "$SSH_USER" -g "$SSH_USER" "$home/.ssh"
  install -m 0600 -o "$SSH_USER" -g "$SSH_USER" "$STATE/client_ed25519.pub" "$home/.ssh/authorized_keys"
  sed -e "s|@STATE@|$STATE|g" -e "s|@USER@|$SSH_USER|g" "$ROOT/deploy/slurm/sshd_config" >"$STATE/sshd_config"
  if pid_alive $PIDFILE sshd; then log "sshd: already running on 127.0.0.1:$PORT"; return 0; fi
  install -d -m 0755 /run/sshd
  /usr/sbin/sshd -t -f "$STATE/sshd_config"
  /usr/sbin/sshd -f "$STATE/sshd_config"
  wait_port 127.0.0.1 $PORT 20 || die "sshd did not listen on 127.0.0.1:$PORT"
  log "sshd: started on 127.0.0.1:$PORT for $SSH_USER (key $STATE/client_ed25519)"
}

case ${1:-status} in
  up | start) up ;;
  down | stop) stop_pidfile sshd $PIDFILE ;;
  status) port_open 127.0.0.1 $PORT && echo "sshd: up" || { echo "sshd: down"; exit 1; } ;;
  *) die "usage: $0 up|down|status" ;;
esac
