#!/usr/bin/env bash
# The whole test suite: typecheck, unit, end-to-end and integration tests (against a real kube-apiserver,
# built from Debian's packages on first use and cached). Ends with "N passed, N failed"; exits non-zero
# on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bun=node_modules/.bin/bun
tsc=node_modules/.bin/tsc
if [[ ! -x $bun || ! -x $tsc ]]; then
  echo "dependencies are missing: run npm install first" >&2
  exit 2
fi

failed=0
passed=0

echo "== typecheck"
if "$tsc" --noEmit -p .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

if [[ -z ${KUBECONFIG_FOR_TESTS:-} ]]; then
  echo "== kube-apiserver for integration tests (cached after the first build)"
  if ! bash test/support/kube-apiserver/prepare.sh >/dev/null; then
    echo "could not prepare etcd + kube-apiserver; the integration tests will fail" >&2
  fi
  # kubectl v1.20.2 for the server-side dry runs of deploy/ (test/deploy/dry-run-real-apiserver.test.ts).
  if ! bash test/support/kube-apiserver/prepare-kubectl.sh >/dev/null; then
    echo "could not prepare kubectl; the deploy/ dry-run tests will fail" >&2
  fi
fi
# Debian's nats-server (JetStream) for the tests of state.store: nats (test/support/nats-server.ts starts them).
if ! bash test/support/prepare-nats.sh >/dev/null; then
  echo "could not prepare nats-server; the state.store: nats tests will fail" >&2
fi
if [[ -z ${FLUXGATE_KUSTOMIZE:-} ]]; then
  # kustomize v4.5.4 renders deploy/ for the deploy tests (cached after the first download).
  if ! bash test/support/prepare-kustomize.sh >/dev/null; then
    echo "could not prepare kustomize; the deploy/ render tests will fail" >&2
  fi
fi

echo "== bun test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$bun" test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)
passed=$((passed + pass))
failed=$((failed + fail))
# bun exits non-zero on errors outside tests (a file that fails to load) without counting them as failures.
if [[ $status -ne 0 && $fail -eq 0 ]]; then failed=$((failed + 1)); fi

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
