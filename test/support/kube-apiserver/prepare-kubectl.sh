#!/usr/bin/env bash
# Ensures a kubectl matching the test kube-apiserver (v1.20.2) exists in the cache, and prints its path as the
# last line on stdout.
#
#   cache: ${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}/kubectl/kubectl
#
# It is the kubectl of Debian's kubernetes-client package, built from the same `kubernetes` source package
# (v1.20.2) that prepare.sh builds kube-apiserver from, fetched through the same private apt configuration
# (no root, /etc/apt untouched) and unpacked with dpkg-deb. Its own directory and lock, so it neither waits
# for nor invalidates the etcd + kube-apiserver build. The tests use it for `kubectl apply --dry-run=server`;
# its built-in kustomize (v2.0.3) is too old for the manifests, which are rendered by a current kubectl.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CACHE="${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}"
DIR="$CACHE/kubectl"
RECIPE="fluxgate-kube kubectl recipe 1: Debian kubernetes-client (v1.20.2)"

cached() {
  [[ -x "$DIR/kubectl" && -f "$DIR/.recipe" ]] && [[ "$(head -n1 "$DIR/.recipe")" == "$RECIPE" ]]
}

source "$HERE/../cache-lock.sh"
exit_if_cached_or_lock "$CACHE/.kubectl.lock" prepare-kubectl.sh "$DIR/kubectl"

WORK="$(mktemp -d "$CACHE/kubectl-work.XXXXXX")"
LOG="$WORK/log"
trap 'rm -rf "$WORK"' EXIT
fail() {
  echo "prepare-kubectl.sh: failed; last lines of the log:" >&2
  tail -n 30 "$LOG" >&2 || true
  exit 1
}

echo "prepare-kubectl.sh: fetching Debian's kubernetes-client into $DIR" >&2
APT_DIR="$WORK/apt"
source "$HERE/private-apt.sh"
setup_apt >>"$LOG" 2>&1 || fail
export APT_CONFIG="$APT_DIR/apt.conf"
apt-get -q update >>"$LOG" 2>&1 || fail
(cd "$WORK" && apt-get -q download kubernetes-client) >>"$LOG" 2>&1 || fail
dpkg-deb -x "$WORK"/kubernetes-client_*.deb "$WORK/root" >>"$LOG" 2>&1 || fail
version="$("$WORK/root/usr/bin/kubectl" version --client --short 2>>"$LOG")" || fail
[[ "$version" == *"v1.20."* ]] || { echo "unexpected kubectl: $version" >>"$LOG"; fail; }

rm -rf "$DIR.new"
mkdir -p "$DIR.new"
cp "$WORK/root/usr/bin/kubectl" "$DIR.new/kubectl"
{
  echo "$RECIPE"
  echo "$version"
  echo "package: $(basename "$WORK"/kubernetes-client_*.deb)"
} >"$DIR.new/.recipe"
rm -rf "$DIR"
mv "$DIR.new" "$DIR"
echo "$DIR/kubectl"
