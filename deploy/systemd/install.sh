#!/usr/bin/env bash
# Installs fluxgate as a systemd service on this machine (run as root):
#
#   sudo deploy/systemd/install.sh --binary dist/fluxgate --config fluxgate.yaml --env fluxgate.env \
#     --kubeconfig fluxgate.kubeconfig
#
#   --binary FILE      the compiled fluxgate (default: dist/fluxgate of this checkout)  -> /usr/local/bin/fluxgate
#   --config FILE      its config (`fluxgate init` writes one)                           -> /etc/fluxgate/fluxgate.yaml
#   --env FILE         VAR=value secrets the config names (`fluxgate init` writes them) -> /etc/fluxgate/env
#   --kubeconfig FILE  credentials for the cluster (a token or client certificate)      -> /etc/fluxgate/kubeconfig
#   --no-start         install only; do not enable and start the service
#   --root DIR         install under DIR instead of / (packaging, tests); implies --no-start
#
# Creates the system user and group `fluxgate` (no shell, no home). The config and kubeconfig are root-owned and
# readable by the group; the env file stays root-only (systemd reads it and hands the values to the service).
# A file not given is left as it is; the config must exist in the end. Before starting, the installed binary
# validates the installed config with the installed secrets, as the unit's ExecStartPre will.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$here/../../dist/fluxgate"
config='' env_file='' kubeconfig='' root='' start=1

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --env) env_file="${2:?--env needs a file}"; shift 2 ;;
    --kubeconfig) kubeconfig="${2:?--kubeconfig needs a file}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; start=0; shift 2 ;;
    --no-start) start=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ $EUID -eq 0 ]] || die "run as root (it creates a user and writes under /etc and /usr/local)"
[[ -x "$binary" ]] || die "no executable fluxgate at $binary: build it with 'npm run build' or give --binary"
for file in "$config" "$env_file" "$kubeconfig"; do
  [[ -z "$file" || -f "$file" ]] || die "no such file: $file"
done

etc="$root/etc/fluxgate"
bin="$root/usr/local/bin/fluxgate"
unit="$root/etc/systemd/system/fluxgate.service"

# The system account. With --root, useradd edits DIR/etc/passwd and DIR/etc/group (--prefix), not this host's.
prefix=()
[[ -n "$root" ]] && prefix=(--prefix "$root")
if ! grep -q '^fluxgate:' "$root/etc/passwd" 2>/dev/null; then
  useradd "${prefix[@]}" --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment 'fluxgate webhook gateway' fluxgate
fi
gid="$(awk -F: '$1 == "fluxgate" { print $3 }' "$root/etc/group")"
[[ -n "$gid" ]] || die "group fluxgate not found in $root/etc/group"

install -D -m 0755 "$binary" "$bin"
install -d -m 0750 -o 0 -g "$gid" "$etc"
[[ -n "$config" ]] && install -m 0640 -o 0 -g "$gid" "$config" "$etc/fluxgate.yaml"
[[ -n "$env_file" ]] && install -m 0600 -o 0 -g 0 "$env_file" "$etc/env"
[[ -n "$kubeconfig" ]] && install -m 0640 -o 0 -g "$gid" "$kubeconfig" "$etc/kubeconfig"
install -D -m 0644 "$here/fluxgate.service" "$unit"
[[ -f "$etc/fluxgate.yaml" ]] || die "no config at $etc/fluxgate.yaml: give --config (fluxgate init writes one)"

# The same check as the unit's ExecStartPre, with the same environment.
(
  set -a
  [[ -f "$etc/env" ]] && . "$etc/env"
  export KUBECONFIG="$etc/kubeconfig"
  "$bin" validate "$etc/fluxgate.yaml"
) || die "the installed config does not validate (see above); fix it and run install.sh again"

echo "installed: $bin, $etc/{fluxgate.yaml,env,kubeconfig}, $unit"
if [[ $start -eq 1 ]]; then
  if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    systemctl enable --now fluxgate.service
    systemctl --no-pager --lines=5 status fluxgate.service || true
  else
    echo "systemd is not running here: start it with 'systemctl daemon-reload && systemctl enable --now fluxgate'"
  fi
fi
