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
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Everything explicit: a developer's .env must not point the fuzzer at a real database.
DATABASE_URL="${FUZZ_DATABASE_URL:-sqlite://$DATA/presta.db?mode=rwc}" REDIS_URL= \
DATA_DIR="$DATA" PORT="$PORT" RUST_LOG=warn LOG_FORMAT=json \
  RATE_LIMIT_DEFAULT="600000/min,burst=100000" RATE_LIMIT_AUTH="600000/min,burst=100000" \
  ./target/debug/presta >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
if ! curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null; then
  echo "!! the server did not become ready:"; tail -n 40 "$OUT/server.log"; exit 1
fi

"$VENV/bin/st" --no-color run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
  --checks all --workers 2 --max-examples "${FUZZ_MAX_EXAMPLES:-100}" --seed 20261121 \
  --request-timeout 10 2>&1 | tee "$OUT/schemathesis.log" | tail -n 25

if grep -qE '"level":"ERROR"|panicked' "$OUT/server.log"; then
  echo "!! the server logged errors while being fuzzed:"
  grep -E '"level":"ERROR"|panicked' "$OUT/server.log" | head -n 20
  exit 1
fi
echo "fuzzing: no server error, every response conforms to the document"
