# Sourced by prepare.sh and prepare-kubectl.sh: setup_apt writes a private apt configuration under $APT_DIR
# (sources, lists and package cache of its own), so neither /etc/apt nor the system's package state is touched
# and no root is needed. Use it with APT_CONFIG="$APT_DIR/apt.conf".
#
# Mirror the machine's Debian sources for this release (deb + deb-src, main
# only), so whatever mirror or snapshot the machine uses is honoured. Foreign
# repositories are skipped: most publish no Sources index and would make
# `apt-get update` fail.
setup_apt() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  rm -rf "$APT_DIR"
  mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  local list="$APT_DIR/sources.list" parts="$APT_DIR/sources.list.d"
  : >"$list"

  # One-line style (*.list): duplicate each matching `deb` line as `deb-src`.
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v cn="$codename" '
      $1 == "deb" {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        uri = $i; suite = $(i + 1)
        if (suite !~ "^" cn "(-[a-z-]+)?$") next
        print "deb" opts " " uri " " suite " main"
        print "deb-src" opts " " uri " " suite " main"
      }' "$f" >>"$list"
  done

  # deb822 style (*.sources): copy matching stanzas with Types set to both.
  local n=0
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    n=$((n + 1))
    awk -v cn="$codename" '
      BEGIN { RS = ""; ORS = "\n\n" }
      {
        if ($0 ~ /(^|\n)Enabled:[ \t]*no/) next
        if (!match($0, /(^|\n)Suites:[^\n]*/)) next
        suites = substr($0, RSTART, RLENGTH); sub(/^\n?Suites:/, "", suites)
        ok = 0; ns = split(suites, s, /[ \t]+/)
        for (k = 1; k <= ns; k++) if (s[k] ~ "^" cn "(-[a-z-]+)?$") ok = 1
        if (!ok) next
        gsub(/(^|\n)Types:[^\n]*/, "\nTypes: deb deb-src")
        gsub(/(^|\n)Components:[^\n]*/, "\nComponents: main")
        sub(/^\n/, "")
        print
      }' "$f" >"$parts/mirror-$n.sources"
    [[ -s "$parts/mirror-$n.sources" ]] || rm -f "$parts/mirror-$n.sources"
  done

  # Nothing usable found: fall back to the official archive.
  if ! grep -qs '^deb' "$list" && ! grep -qs '^Types:' "$parts"/*.sources; then
    local key=/usr/share/keyrings/debian-archive-keyring.gpg
    cat >"$parts/fallback.sources" <<EOF
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: $key

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: $key
EOF
  fi

  cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc::sourcelist "$list";
Dir::Etc::sourceparts "$parts";
Dir::State::lists "$APT_DIR/lists";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  # apt drops to user _apt for downloads, which cannot write under a private
  # home directory: download as the calling user instead.
  if [[ $EUID -eq 0 ]]; then echo 'APT::Sandbox::User "root";' >>"$APT_DIR/apt.conf"; fi
  echo "--- private apt sources:"; cat "$list" "$parts"/*.sources
}
