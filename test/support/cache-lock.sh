# Sourced by the prepare scripts (kube-apiserver, kubectl, kustomize): what they share around their cache.
# The caller defines `cached` (true when the cache holds the wanted build).
#
#   exit_if_cached_or_lock LOCKFILE WHO RESULT
#
# Prints RESULT and exits 0 when the cache already holds the build, also when another run that held LOCKFILE
# made it while this one waited; otherwise returns with the lock held on fd 9 until the script ends.
exit_if_cached_or_lock() {
  local lock=$1 who=$2 result=$3
  if cached; then
    echo "$result"
    exit 0
  fi
  mkdir -p "$(dirname "$lock")"
  exec 9>"$lock"
  if ! flock -n 9; then
    echo "$who: waiting for another run in $(dirname "$lock") ..." >&2
    flock 9
  fi
  # Another caller may have finished while we waited.
  if cached; then
    echo "$result"
    exit 0
  fi
}
