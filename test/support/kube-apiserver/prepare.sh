#!/usr/bin/env bash
# Ensures an etcd and a kube-apiserver binary exist in a cache directory, and
# prints that bin directory as the last line on stdout.
#
#   cache: ${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}
#   bin:   <cache>/bin/{etcd,kube-apiserver}
#   log:   <cache>/build.log (full log of the last build)
#
# Everything comes from Debian's archive through apt with a private
# configuration (own sources, lists and package cache under <cache>/apt), so
# /etc/apt and the system's package state are left alone and no root is needed:
#   - etcd: the binary from the etcd-server package (no service is started);
#   - kube-apiserver: built from the `kubernetes` source package (upstream
#     v1.20 tree with vendor/) using the Go 1.19 toolchain unpacked from the
#     golang-1.19-go/-src packages.
#
# The cold path takes a few minutes (mostly `go build`); once the binaries are
# cached this prints one line. Set FLUXGATE_KUBE_KEEP_BUILD=1 to keep the
# source tree and Go build cache after a successful build.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CACHE="${FLUXGATE_KUBE_CACHE:-$HOME/.cache/fluxgate-kube}"
BIN="$CACHE/bin"
LOG="$CACHE/build.log"
# Bump when the recipe below changes so cached binaries get rebuilt.
RECIPE="fluxgate-kube recipe 1: etcd-server + kubernetes source package, golang-1.19"
STAMP="$BIN/.recipe"

cached() {
  [[ -x "$BIN/etcd" && -x "$BIN/kube-apiserver" && -f "$STAMP" ]] &&
    [[ "$(head -n1 "$STAMP")" == "$RECIPE" ]]
}

source "$HERE/../cache-lock.sh"
exit_if_cached_or_lock "$CACHE/.lock" prepare.sh "$BIN"

WORK="$CACHE/work"
APT_DIR="$CACHE/apt"
DL="$WORK/downloads"
STARTED=$SECONDS

# From here on command output goes to the log; progress lines go to stderr
# (fd 3), and the final bin path to stdout (fd 4).
: >"$LOG"
exec 3>&2 4>&1 >>"$LOG" 2>&1
progress() { echo "prepare.sh: [$((SECONDS - STARTED))s] $*" | tee -a "$LOG" >&3; }
fail() {
  local rc=$?
  trap - ERR
  exec 1>&4 2>&3
  echo "prepare.sh: build failed (exit $rc); last lines of $LOG:" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
}
set -E
trap fail ERR

progress "building etcd + kube-apiserver into $BIN (full log: $LOG)"
rm -rf "$WORK"
mkdir -p "$WORK" "$DL"

# --- private apt configuration (setup_apt) ------------------------------------
source "$HERE/private-apt.sh"

progress "apt: private sources + update"
setup_apt
export APT_CONFIG="$APT_DIR/apt.conf"
apt-get -q update

progress "apt: downloading etcd-server, golang-1.19, reflect2 and the kubernetes source package"
cd "$DL"
apt-get -q download etcd-server golang-1.19-go golang-1.19-src golang-github-modern-go-reflect2-dev
# Only the .dsc/.orig/.debian files are fetched; no dpkg-source needed.
apt-get -q source --download-only kubernetes

# --- etcd -------------------------------------------------------------------
mkdir -p "$WORK/etcd"
dpkg-deb -x "$DL"/etcd-server_*.deb "$WORK/etcd"
"$WORK/etcd/usr/bin/etcd" --version

# --- Go toolchain -----------------------------------------------------------
# Unpacked, not installed: relative symlinks in golang-1.19-go point into
# golang-1.19-src, so both go into the same root.
mkdir -p "$WORK/toolchain"
dpkg-deb -x "$DL"/golang-1.19-go_*.deb "$WORK/toolchain"
dpkg-deb -x "$DL"/golang-1.19-src_*.deb "$WORK/toolchain"
export GOROOT="$WORK/toolchain/usr/lib/go-1.19"
export PATH="$GOROOT/bin:$PATH"
export GOPATH="$WORK/gopath" GOCACHE="$WORK/gocache"
# The v1.20 tree only builds in GOPATH mode (module mode with -mod=vendor wants
# go.mod updates). Ignore any user Go environment.
export GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOENV=off GOPROXY=off
go version

# --- kubernetes source tree ---------------------------------------------------
# The orig tarball is the complete upstream tree with vendor/. Debian's patches
# only touch kubectl printing code, so they are not applied.
progress "unpacking kubernetes source"
SRC="$GOPATH/src/k8s.io/kubernetes"
mkdir -p "$WORK/unpack" "$GOPATH/src/k8s.io"
tar -C "$WORK/unpack" -xzf "$DL"/kubernetes_*.orig.tar.gz
top="$(ls "$WORK/unpack")" # kubernetes-1.20.2
mv "$WORK/unpack/$top" "$SRC"
KUBE_VERSION="v${top#kubernetes-}"

# Vendored reflect2 v1.0.1 crashes at run time with Go >= 1.18 (it relies on
# runtime internals that changed); swap in Debian's 1.0.2 sources.
REFLECT2="$SRC/vendor/github.com/modern-go/reflect2"
mkdir -p "$WORK/reflect2"
dpkg-deb -x "$DL"/golang-github-modern-go-reflect2-dev_*.deb "$WORK/reflect2"
rm -f "$REFLECT2"/*.go "$REFLECT2"/*.s
cp "$WORK/reflect2/usr/share/gocode/src/github.com/modern-go/reflect2/"*.go \
  "$WORK/reflect2/usr/share/gocode/src/github.com/modern-go/reflect2/"*.s "$REFLECT2/"

cd "$SRC"

# --- generated OpenAPI definitions ------------------------------------------
# pkg/generated/openapi/zz_generated.openapi.go is produced at build time by
# upstream's build/root/Makefile.generated_files (gen_openapi, KUBE target);
# this reproduces that rule: every Go dir of the tree (staging/src named as
# vendor/, the rest of vendor/ and ./_* ./.* pruned, as in
# hack/make-rules/helpers/cache_go_dirs.sh), files carrying a `// +k8s:` tag,
# those with `+k8s:openapi-gen=`, minus code-generator and sample-apiserver.
progress "generating OpenAPI definitions (openapi-gen)"
go build -o "$WORK/openapi-gen" k8s.io/kubernetes/vendor/k8s.io/kube-openapi/cmd/openapi-gen
find -H . -not \( \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune \) -type f -name '*.go' |
  sed 's|^\./staging/src|vendor|; s|/[^/]*$||; s|^\./||' | LC_ALL=C sort -u >"$WORK/go-dirs"
tag_files() {
  local d
  while read -r d; do
    # staging dirs are listed under their vendor/ name; vendor/k8s.io/* are symlinks to staging.
    find -H "$d" -maxdepth 1 -type f -name '*.go'
  done <"$WORK/go-dirs" | { xargs grep -l '^// *+k8s:' || true; } # grep: 1 = a batch had no match
}
tag_files | grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' |
  { xargs grep -l '+k8s:openapi-gen=' || true; } | xargs -n1 dirname | LC_ALL=C sort -u >"$WORK/openapi-dirs"
echo "openapi-gen input dirs: $(wc -l <"$WORK/openapi-dirs")"
# A sanity bound (v1.20 has ~100): an empty or tiny list means the scan broke.
[[ $(wc -l <"$WORK/openapi-dirs") -gt 50 ]]
"$WORK/openapi-gen" \
  --logtostderr \
  --input-dirs "$(sed 's|^|k8s.io/kubernetes/|' "$WORK/openapi-dirs" | paste -sd,)" \
  --output-base "$GOPATH/src" \
  --output-package k8s.io/kubernetes/pkg/generated/openapi \
  --output-file-base zz_generated.openapi \
  --go-header-file vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
  --report-filename "$WORK/api-violations.report"
test -s pkg/generated/openapi/zz_generated.openapi.go
# Informational only: upstream fails on new violations, we just record them.
diff "$WORK/api-violations.report" api/api-rules/violation_exceptions.list ||
  echo "note: API rule violations differ from api/api-rules/violation_exceptions.list"

# --- kube-apiserver ---------------------------------------------------------
progress "building kube-apiserver $KUBE_VERSION (go build, the long step)"
minor="${KUBE_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in client-go/pkg/version component-base/version; do
  p="k8s.io/kubernetes/vendor/k8s.io/$pkg"
  ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done
go build -ldflags "$ldflags" -o "$WORK/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
"$WORK/kube-apiserver" --version

# --- install ----------------------------------------------------------------
rm -rf "$BIN.new"
mkdir -p "$BIN.new"
cp "$WORK/etcd/usr/bin/etcd" "$WORK/kube-apiserver" "$BIN.new/"
{
  echo "$RECIPE"
  echo "kube-apiserver: $("$BIN.new/kube-apiserver" --version)"
  echo "etcd: $("$BIN.new/etcd" --version | tr '\n' ' ')"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - STARTED))s"
} >"$BIN.new/.recipe"
rm -rf "$BIN"
mv "$BIN.new" "$BIN"

# The binaries are in place and verified, so the ~2 GB of sources, toolchain
# and Go build cache can go (the build runs under our lock; nobody else uses
# them).
if [[ "${FLUXGATE_KUBE_KEEP_BUILD:-}" != 1 ]]; then
  chmod -R u+w "$WORK" # Go's module/build cache files are read-only
  rm -rf "$WORK" "$APT_DIR"
fi

progress "done in $((SECONDS - STARTED))s"
exec 1>&4 2>&3
echo "$BIN"
