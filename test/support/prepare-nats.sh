#!/usr/bin/env bash
# Ensures a nats-server with JetStream (Debian's package, 2.9) is on this machine, and prints its path as the last
# line on stdout. The tests of `state.store: nats` start their own servers on loopback (test/support/nats-server.ts);
# FLUXGATE_NATS_SERVER names another binary instead.
set -euo pipefail

if [[ -n ${FLUXGATE_NATS_SERVER:-} ]]; then
  echo "$FLUXGATE_NATS_SERVER"
  exit 0
fi
if ! command -v nats-server >/dev/null 2>&1; then
  sudo_=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
  echo "prepare-nats.sh: installing Debian's nats-server" >&2
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends nats-server >&2
fi
# The package enables a system service; the tests run their own servers and never use it.
command -v nats-server
