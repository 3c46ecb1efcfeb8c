#!/usr/bin/env bash
# Start or stop a throwaway sshd on 127.0.0.1 for the ssh host tests. Everything lives in DIR:
#   start DIR: make a host key, a client key (and a second, unauthorised key), an sshd_config with a
#              high port, a client ssh_config pinning known_hosts and the key; start sshd; print the port.
#              ssh_config_wrong_key is the same client config with a key the server refuses.
#   stop DIR:  stop that sshd.
# The daemon runs as the current user; it listens on 127.0.0.1 only and accepts only the client key.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(cd "$2" && pwd)
sshd=${SSHD:-/usr/sbin/sshd}

start() {
  [ -x "$sshd" ] || { echo "$sshd not found: install openssh-server" >&2; exit 3; }
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-host -f "$dir/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-client -f "$dir/client_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C sshd-test-wrong -f "$dir/wrong_ed25519"
  cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
  # sshd refuses to start without its privilege separation directory.
  if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd; fi
  local port tries=0
  while :; do
    port=$((20000 + RANDOM % 30000))
    cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
LogLevel VERBOSE
CONF
    if "$sshd" -f "$dir/sshd_config" -E "$dir/sshd.log"; then break; fi
    tries=$((tries + 1))
    if [ $tries -ge 5 ]; then
      echo "sshd did not start; see $dir/sshd.log" >&2
      exit 1
    fi
  done
  printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >"$dir/known_hosts"
  cat >"$dir/ssh_config" <<CONF
Host *
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  IdentityFile $dir/client_ed25519
  IdentitiesOnly yes
  IdentityAgent none
CONF
  # The same, with a key the server does not accept: for the failed-authentication test.
  sed "s|$dir/client_ed25519|$dir/wrong_ed25519|" "$dir/ssh_config" >"$dir/ssh_config_wrong_key"
  echo "$port" >"$dir/port"
  # Wait until the port answers (sshd writes its pid file once it listens).
  for _ in $(seq 50); do [ -s "$dir/sshd.pid" ] && break; sleep 0.1; done
  echo "$port"
}

stop() {
  [ -s "$dir/sshd.pid" ] || exit 0
  local pid
  pid=$(cat "$dir/sshd.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/sshd.pid"
}

case $action in
start) start ;;
stop) stop ;;
*) usage ;;
esac
