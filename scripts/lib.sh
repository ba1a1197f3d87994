# Shared by the scripts: run a `presta` binary on a fresh data folder and a free port.
# Everything is set explicitly so a developer's .env never points a script at a real database.

# start_presta BINARY LOG [DATABASE_URL]
# Sets PRESTA_PID, PRESTA_PORT, PRESTA_DATA and waits until /ready answers 200.
start_presta() {
  local binary=$1 log=$2 database_url=${3:-}
  PRESTA_DATA=$(mktemp -d)
  PRESTA_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  PRESTA_ADMIN_EMAIL="admin@presta.local"
  PRESTA_ADMIN_PASSWORD="Script-Root-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  ADMIN_EMAIL="$PRESTA_ADMIN_EMAIL" ADMIN_PASSWORD="$PRESTA_ADMIN_PASSWORD" \
  DATABASE_URL="${database_url:-sqlite://$PRESTA_DATA/presta.db?mode=rwc}" REDIS_URL= \
  DATA_DIR="$PRESTA_DATA" PORT="$PRESTA_PORT" RUST_LOG=warn LOG_FORMAT=json \
  RATE_LIMIT_DEFAULT="100000000/min,burst=10000000" RATE_LIMIT_AUTH="100000000/min,burst=10000000" \
  RATE_LIMIT_PUBLIC="100000000/min,burst=10000000" \
    "$binary" >"$log" 2>&1 &
  PRESTA_PID=$!
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$PRESTA_PORT/ready" >/dev/null 2>&1 && return 0
    kill -0 "$PRESTA_PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "!! the server did not become ready:"
  tail -n 40 "$log"
  return 1
}

stop_presta() {
  if [ -n "${PRESTA_PID:-}" ]; then
    kill "$PRESTA_PID" 2>/dev/null || true
    wait "$PRESTA_PID" 2>/dev/null || true
  fi
  if [ -n "${PRESTA_DATA:-}" ]; then rm -rf "$PRESTA_DATA"; fi
}

# presta_admin_pat: sign in as the bootstrapped superadmin and print a personal access token
# (a PAT survives the logout/logout-all calls a fuzzer makes).
presta_admin_pat() {
  presta_pat "$PRESTA_ADMIN_EMAIL" "$PRESTA_ADMIN_PASSWORD"
}

# presta_pat EMAIL PASSWORD: sign in and print a personal access token.
presta_pat() {
  local base="http://127.0.0.1:$PRESTA_PORT/api/auth" token email=$1 password=$2
  token=$(curl -fs -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" \
    "$base/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')
  curl -fs -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d "{\"name\":\"script\",\"expires_in_days\":1,\"password\":\"$password\"}" \
    "$base/tokens" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])'
}

# presta_client_pat BINARY [DATABASE_URL]: fill a demo client company (`presta seed-demo`) in
# the running server's database and print a personal access token of its client account.
presta_client_pat() {
  local binary=$1 database_url=${2:-} password
  password="Fuzz-Portal-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  DATABASE_URL="${database_url:-sqlite://$PRESTA_DATA/presta.db?mode=rwc}" REDIS_URL= \
  DATA_DIR="$PRESTA_DATA" RUST_LOG=warn LOG_FORMAT=json \
    "$binary" seed-demo --email client@presta.local --password "$password" >/dev/null
  presta_pat client@presta.local "$password"
}

say() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# ensure_postgres: install and start PostgreSQL if needed; PG_ADMIN_URL (a superuser URL, by
# default postgres@127.0.0.1:5432) is set to one that works.
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
ensure_postgres() {
  if ! command -v pg_isready >/dev/null 2>&1; then
    say "Installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    say "Starting PostgreSQL"
    if command -v pg_lsclusters >/dev/null 2>&1; then
      if [ -z "$(pg_lsclusters -h)" ]; then
        as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main
      fi
      pg_lsclusters -h | while read -r version cluster _; do
        as_root pg_ctlcluster "$version" "$cluster" start || true
      done
    else
      as_root service postgresql start
    fi
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # -w: never prompt for a password (a prompt would hang CI).
  if ! psql -w "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    # A stock install refuses passwordless TCP logins: give the CI role a password.
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\""
    PG_ADMIN_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    psql -w "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null
  fi
}

