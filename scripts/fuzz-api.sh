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
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version | grep -q "$VERSION"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
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

# logout-all and token revocation can revoke the fuzzer's own token (stateful tests find its id
# in the token list): they run last, on their own.
fuzz() {
  "$VENV/bin/st" --no-color run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
    -H "Authorization: Bearer $PAT" \
    --checks all --workers 2 --max-examples "${FUZZ_MAX_EXAMPLES:-100}" --seed 20261121 \
    --request-timeout 10 "$@" 2>&1
}
fuzz --exclude-operation-id logout_all --exclude-operation-id revoke |
  tee "$OUT/schemathesis.log" | tail -n 25
fuzz --include-operation-id logout_all --include-operation-id revoke |
  tee "$OUT/schemathesis-revocations.log" | tail -n 6
# The client portal again as a client of a demo company, so its routes answer with real data
# instead of 403.
CLIENT_PAT=$(presta_client_pat ./target/debug/presta "${FUZZ_DATABASE_URL:-}")
"$VENV/bin/st" --no-color run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
  -H "Authorization: Bearer $CLIENT_PAT" --include-path-regex '^/api/client/' \
  --checks all --workers 2 --max-examples "${FUZZ_MAX_EXAMPLES:-100}" --seed 20261122 \
  --request-timeout 10 2>&1 |
  tee "$OUT/schemathesis-client.log" | tail -n 8

if grep -qE '"level":"ERROR"|panicked' "$OUT/server.log"; then
  echo "!! the server logged errors while being fuzzed:"
  grep -E '"level":"ERROR"|panicked' "$OUT/server.log" | head -n 20
  exit 1
fi
echo "fuzzing: no server error, every response conforms to the document"
