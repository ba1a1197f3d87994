#!/usr/bin/env bash
# Contract fuzzing: start the server on a fresh SQLite database and run schemathesis with every
# check against its OpenAPI document. Fails on any server error, schema violation, undocumented
# status, or an ERROR line in the server's log.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/target/fuzz"
mkdir -p "$OUT"
VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$ROOT/target/venv-schemathesis"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_packages=()
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_packages+=(python3-venv)
if [ ${#need_packages[@]} -gt 0 ]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}"
fi
# CPython before 3.11.8 / 3.12.2 keeps the AST constructor's recursion depth in shared state, so
# two threads parsing at once (hypothesis describes its filters that way when schemathesis runs two
# workers) can raise "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905) and fail a clean run. Take a fixed interpreter when there is one;
# otherwise fuzz on one worker.
PYTHON="" WORKERS=2
candidates=(python3.14 python3.13 python3.12 python3.11 python3)
if command -v pyenv >/dev/null 2>&1; then
  mapfile -t -O ${#candidates[@]} candidates < <(ls -d "$(pyenv root)"/versions/3.*/bin/python3 2>/dev/null | sort -rV)
fi
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv, ensurepip
v = sys.version_info[:3]
sys.exit(0 if v >= (3, 13) or (3, 12, 2) <= v < (3, 13) or (3, 11, 8) <= v < (3, 12) else 1)' 2>/dev/null; then
    PYTHON=$candidate
    break
  fi
done
if [ -z "$PYTHON" ]; then
  PYTHON=python3 WORKERS=1
  echo "fuzzing on one worker: $(python3 --version) has python/cpython#106905"
fi
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version | grep -q "$VERSION" ||
  [ "$("$VENV/bin/python" --version 2>&1)" != "$("$PYTHON" --version 2>&1)" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build -q -p server
# shellcheck source=lib.sh
. scripts/lib.sh
trap stop_presta EXIT
start_presta ./target/debug/presta "$OUT/server.log" "${FUZZ_DATABASE_URL:-}"
PORT=$PRESTA_PORT
# Authenticated as a superadmin through a personal access token, so authenticated routes are
# exercised beyond their 401 (schemathesis' ignored_auth check still sends them without it).
PAT=$(presta_admin_pat)

# fuzz LOG TAIL TOKEN SEED [st options]: run schemathesis, keep its log, print its summary and,
# when it fails, what failed (its ERRORS and FAILURES sections).
fuzz() {
  local log=$OUT/$1 tail=$2 token=$3 seed=$4
  shift 4
  if ! "$VENV/bin/st" --no-color run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks all --workers "$WORKERS" --max-examples "${FUZZ_MAX_EXAMPLES:-100}" --seed "$seed" \
    --request-timeout 10 "$@" >"$log" 2>&1; then
    sed -n '/^=* \(ERRORS\|FAILURES\) =*$/,/^=* \(WARNINGS\|SUMMARY\) =*$/p' "$log" | cut -c1-400 | head -n 150
    tail -n "$tail" "$log"
    echo "!! schemathesis failed: $log"
    exit 1
  fi
  tail -n "$tail" "$log"
}
# logout-all and token revocation can revoke the fuzzer's own token (stateful tests find its id
# in the token list): they run last, on their own.
fuzz schemathesis.log 25 "$PAT" 20261121 --exclude-operation-id logout_all --exclude-operation-id revoke
fuzz schemathesis-revocations.log 6 "$PAT" 20261121 --include-operation-id logout_all --include-operation-id revoke
# The client portal again as a client of a demo company, so its routes answer with real data
# instead of 403.
CLIENT_PAT=$(presta_client_pat ./target/debug/presta "${FUZZ_DATABASE_URL:-}")
fuzz schemathesis-client.log 8 "$CLIENT_PAT" 20261122 --include-path-regex '^/api/client/'

if grep -qE '"level":"ERROR"|panicked' "$OUT/server.log"; then
  echo "!! the server logged errors while being fuzzed:"
  grep -E '"level":"ERROR"|panicked' "$OUT/server.log" | head -n 20
  exit 1
fi
echo "fuzzing: no server error, every response conforms to the document"
