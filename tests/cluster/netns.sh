#!/usr/bin/env bash
# The cluster test's hosts: one Linux network namespace per host on one bridge (root only).
#
#   netns.sh up        create the bridge and the hosts (cleans up after itself if it fails)
#   netns.sh down      stop every process left in the hosts, delete them and the bridge (idempotent)
#   netns.sh run CMD   up, run CMD with a time limit, and always down (trap), keeping CMD's exit code
#
# Addresses come from 198.18.0.0/24, the range set aside for benchmark networks (RFC 2544); no
# traffic leaves the machine: the namespaces reach only each other and the host's bridge address.
# The hosts: lb .10, web-a .11, web-b .12, rasa-a .21, rasa-b .22, worker-a .31, worker-b .32;
# the host itself is .1 (PostgreSQL and Redis are reached there). Names are in tests/cluster/hosts.py.
set -euo pipefail

BRIDGE=olc0
PREFIX=olc-
NET=198.18.0
HOSTS=(lb:10 web-a:11 web-b:12 rasa-a:21 rasa-b:22 worker-a:31 worker-b:32)
RUN_TIMEOUT=${CLUSTER_TIMEOUT:-1500}

down() {
  local entry name pid
  for entry in "${HOSTS[@]}"; do
    name=$PREFIX${entry%%:*}
    ip netns list 2>/dev/null | grep -qw "^$name" || continue
    for pid in $(ip netns pids "$name" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  done
  for _ in $(seq 1 20); do  # bounded: 10 s for them to exit, then SIGKILL
    local left=0
    for entry in "${HOSTS[@]}"; do
      name=$PREFIX${entry%%:*}
      [ -n "$(ip netns pids "$name" 2>/dev/null)" ] && left=1
    done
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  for entry in "${HOSTS[@]}"; do
    name=$PREFIX${entry%%:*}
    for pid in $(ip netns pids "$name" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip link del "$name" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

up() {
  [ "$(id -u)" = 0 ] || { echo "netns.sh: the cluster test needs root (ip netns)" >&2; exit 1; }
  down
  trap 'down' ERR
  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local entry name addr
  for entry in "${HOSTS[@]}"; do
    name=$PREFIX${entry%%:*}
    addr=$NET.${entry##*:}
    ip netns add "$name"
    ip link add "$name" type veth peer name eth0 netns "$name"
    ip link set "$name" master "$BRIDGE" up
    ip -n "$name" addr add "$addr/24" dev eth0
    ip -n "$name" link set lo up
    ip -n "$name" link set eth0 up
  done
  trap - ERR
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    child=
    trap 'down' EXIT
    # On Ctrl-C or TERM: stop CMD (timeout passes the signal on), give it 30 s to clean up, then down.
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; for _ in $(seq 1 60); do kill -0 "$child" 2>/dev/null || break; sleep 0.5; done; exit 143' INT TERM
    up
    timeout --kill-after=30 "$RUN_TIMEOUT" "$@" &
    child=$!
    wait "$child"  # a signal interrupts this wait (not a foreground command), so the trap runs at once
    ;;
  *) echo "usage: $0 up|down|run -- CMD..." >&2; exit 2 ;;
esac
