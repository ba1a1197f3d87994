#!/usr/bin/env bash
# Load benchmark (`just bench`): builds the release server, starts it on a fresh database,
# seeds it (bench/seed: 1,000 companies, 100,000 tickets, 10,000 projects, 50,000 invoices with
# lines and payments, accounts of every role, a staffed planning week), signs in and drives
# each scenario with wrk at fixed concurrency for a fixed duration. Writes bench/out/<db>/
# results.md (the table) and results.json, and prints the table.
#
#   bench/run.sh [--pg] [--scale] [--smoke]
#     --pg      PostgreSQL (a fresh database on $PG_ADMIN_URL, dropped at the end) instead of
#               SQLite
#     --scale   then grow the tickets to BENCH_SCALE_TICKETS (1,000,000) by SQL, show the list
#               query's plans (explain.txt) and run the list, search and stats again
#     --smoke   a small data set, 1 s per scenario, debug build: checks the harness end to end
#
#   BENCH_DURATION (s, 10)  BENCH_CONNECTIONS (32)  BENCH_THREADS (2)
#   BENCH_COMPANIES (1000)  BENCH_TICKETS (100000)  BENCH_PROJECTS (10000)
#   BENCH_INVOICES (50000)  BENCH_PLANNING_SHIFTS (2000)  BENCH_SCALE_TICKETS (1000000)
#   BENCH_SCENARIOS (an extended regex: run only the scenarios it matches; /health always runs)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh

DB=sqlite SCALE="" SMOKE=""
for arg in "$@"; do
  case $arg in
    --pg | --postgres) DB=postgres ;;
    --scale) SCALE=1 ;;
    --smoke) SMOKE=1 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$SMOKE" ]; then
  : "${BENCH_DURATION:=1}" "${BENCH_COMPANIES:=20}" "${BENCH_TICKETS:=2000}" "${BENCH_PROJECTS:=300}"
  : "${BENCH_INVOICES:=1000}" "${BENCH_PLANNING_SHIFTS:=100}" "${BENCH_SCALE_TICKETS:=5000}"
  PROFILE=debug CARGO_PROFILE=()
else
  PROFILE=release CARGO_PROFILE=(--release)
fi
DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
OUT="$ROOT/bench/out/$DB"
rm -rf "$OUT"
mkdir -p "$OUT"

if ! command -v wrk >/dev/null 2>&1; then
  say "Installing wrk from Debian's packages"
  apt_install wrk
fi

say "Building the $PROFILE server and seeder"
cargo build "${CARGO_PROFILE[@]}" -q -p server -p bench-seed
BIN="$ROOT/target/$PROFILE"

DATABASE=""
BENCH_DB=""
cleanup() {
  stop_presta
  if [ -n "$BENCH_DB" ]; then
    psql -w "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
if [ "$DB" = postgres ]; then
  ensure_postgres
  BENCH_DB="presta_bench_$$"
  psql -w "$PG_ADMIN_URL" -qc "CREATE DATABASE $BENCH_DB"
  DATABASE="${PG_ADMIN_URL%/*}/$BENCH_DB"
fi

say "Starting the server ($DB)"
start_presta "$BIN/presta" "$OUT/server.log" "$DATABASE"
PORT=$PRESTA_PORT
SERVER=$PRESTA_PID
DATABASE="${DATABASE:-sqlite://$PRESTA_DATA/presta.db?mode=rwc}"
BENCH_PASSWORD="Bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"

say "Seeding"
BENCH_PASSWORD="$BENCH_PASSWORD" "$BIN/presta-seed" --database-url "$DATABASE" \
  --companies "${BENCH_COMPANIES:-1000}" --tickets "${BENCH_TICKETS:-100000}" \
  --projects "${BENCH_PROJECTS:-10000}" --invoices "${BENCH_INVOICES:-50000}" \
  --planning-shifts "${BENCH_PLANNING_SHIFTS:-2000}" 2>&1 | tee "$OUT/seed.txt"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER/status"; }
selected() { [ -z "${BENCH_SCENARIOS:-}" ] || [[ $1 =~ $BENCH_SCENARIOS ]]; }
TOKEN=""
# scenario NAME PATH [CONNECTIONS] [BODY]: wrk at fixed concurrency for DURATION seconds; a BODY
# makes it a POST. $TOKEN, when set, is sent as the bearer token.
# settle: wait (at most 120 s) until the machine is idle, so a scenario does not start while
# the server (or PostgreSQL, on its behalf) still answers the requests the previous one left in
# flight when wrk stopped (a slow route leaves up to CONNECTIONS of them, each seconds long).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
settle() {
  local tick=$(( $(getconf CLK_TCK) / 10 )) before
  for _ in $(seq 1 240); do
    before=$(busy_ticks)
    sleep 0.5
    [ $(( $(busy_ticks) - before )) -le "$tick" ] && return 0
  done
  echo "!! the machine was still busy after 120 s" >&2
}
scenario() {
  local name=$1 path=$2 connections=${3:-$CONNECTIONS} body=${4:-}
  if [ "$name" != health ] && ! selected "$name"; then return 0; fi
  # (Not during the login storm, which keeps the server busy on purpose.)
  if [ "${SETTLE:-1}" = 1 ]; then settle; fi
  local before after
  before=$(cpu_ticks)
  local threads=$(( THREADS < connections ? THREADS : connections ))
  BENCH_BODY="$body" BENCH_TOKEN="$TOKEN" wrk -t"$threads" -c"$connections" -d"${DURATION}s" \
    --timeout 30s --latency -s bench/request.lua "http://127.0.0.1:$PORT$path" >"$OUT/$name.wrk.txt"
  after=$(cpu_ticks)
  echo "$name $path $(( after - before )) $connections $(rss_kib)" >>"$OUT/scenarios.txt"
}
login() {
  curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    "http://127.0.0.1:$PORT/api/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])'
}
api() { curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
first() { python3 -c "import json, sys; d = json.load(sys.stdin)['data']; print(d[0]$1 if d else '-')"; }

: >"$OUT/scenarios.txt"
say "Scenarios: $CONNECTIONS connections, ${DURATION} s each"
scenario health /health
scenario not_found /api/no-such-route

# Logins are Argon2id-bound (OWASP: m=19456 KiB, t=2, p=1): the honest figure is per core.
scenario login /api/auth/login 8 \
  "{\"email\":\"bench-client@presta.local\",\"password\":\"$BENCH_PASSWORD\"}"

# Staff side of the tickets, as the superadmin (every company's tickets).
TOKEN=$(login "$PRESTA_ADMIN_EMAIL" "$PRESTA_ADMIN_PASSWORD")
NUMERO=$(api "/api/tickets-client?limit=1" | first '["numero"]')
CLIENT=$(api "/api/clients?limit=1" | first '["id"]')
LIST="/api/tickets-client?status=en_cours&priority=normale&limit=100"
scenario tickets_list "$LIST"
scenario tickets_list_client_filter "/api/tickets-client?client_id=$CLIENT&limit=100"
scenario tickets_detail "/api/tickets-client/$NUMERO"
scenario tickets_search "/api/tickets-client/search?q=fissure%20porteur&limit=20"
scenario tickets_stats "/api/tickets-client/stats"
total_tickets() { api "/api/tickets-client?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["meta"]["total"])'; }
BEFORE_CREATE=$(total_tickets)
scenario tickets_create /api/tickets-client "$CONNECTIONS" \
  "{\"titre\":\"Fuite sur la colonne d'eau\",\"description\":\"Constatée au 2e étage.\",\"priority\":\"haute\",\"categorie\":\"qualite\",\"client_id\":\"$CLIENT\"}"
sleep 1
# Every create wrk saw answered 201 must be in the table (a few more may have landed after wrk
# stopped counting).
CREATED=$(( $(total_tickets) - BEFORE_CREATE ))

# The login storm: one client reads the ticket list (4 connections) alone, then while 64
# connections send wrong passwords for an unknown account (the dearest case: the dummy hash is
# checked so the answer takes as long as for a real account).
rm -f "$OUT/storm.wrk.txt"
if selected login_storm; then
  scenario login_storm_list_alone "$LIST" 4
  BENCH_BODY='{"email":"nobody@bench.presta.local","password":"not-the-password-123"}' \
    wrk -t1 -c64 -d"$((DURATION + 2))s" -s bench/request.lua \
    "http://127.0.0.1:$PORT/api/auth/login" >"$OUT/storm.wrk.txt" &
  STORM=$!
  sleep 1
  SETTLE=0 scenario login_storm_list_during "$LIST" 4
  wait "$STORM"
fi

# Planning PRO: a week of shifts on ten chantiers, staffed by the solver. The preview is the
# conflict check every planning write runs.
PLANNING=$(api "/api/v1/planning/shifts?from=2027-03-01&to=2027-03-07&limit=1" |
  python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d[0]["id"], d[0]["site_id"]) if d else print("-")')
PCOLLAB=$(api "/api/v1/planning/collaborators?limit=1" | first '["user_id"]')
if [ "$PLANNING" != - ] && [ "$PCOLLAB" != - ]; then
  scenario planning_week_list "/api/v1/planning/shifts?site_id=${PLANNING#* }&from=2027-03-01&to=2027-03-07&limit=100"
  scenario planning_conflict_preview /api/v1/planning/conflicts/preview "$CONNECTIONS" \
    "{\"shift_id\":\"${PLANNING% *}\",\"collaborator_ids\":[\"$PCOLLAB\"]}"
fi

# The client portal, as the bench company's client (400 projects, 1,000 invoices).
TOKEN=$(login bench-client@presta.local "$BENCH_PASSWORD")
INVOICE=$(api "/api/client/invoices?limit=1" | first '["id"]')
scenario auth_me /api/auth/me
scenario client_projects "/api/client/projects?status=in_progress&limit=100"
scenario client_invoices "/api/client/invoices?limit=100"
scenario client_invoice_detail "/api/client/invoices/$INVOICE"
scenario client_invoice_pdf "/api/client/invoices/$INVOICE/pdf"
scenario client_balance /api/client/balance
scenario client_transactions /api/client/transactions
scenario client_dashboard /api/client/dashboard/stats
scenario client_activity /api/client/dashboard/activity

if [ -n "$SCALE" ]; then
  say "Scale: growing the tickets to ${BENCH_SCALE_TICKETS:-1000000} by SQL"
  "$BIN/presta-seed" --database-url "$DATABASE" --grow-tickets "${BENCH_SCALE_TICKETS:-1000000}" 2>&1 |
    tee -a "$OUT/seed.txt"
  "$BIN/presta-seed" --database-url "$DATABASE" --explain-list >"$OUT/explain.txt"
  cat "$OUT/explain.txt"
  TOKEN=$(login "$PRESTA_ADMIN_EMAIL" "$PRESTA_ADMIN_PASSWORD")
  scenario scale_tickets_list "$LIST"
  scenario scale_tickets_list_20 "/api/tickets-client?status=en_cours&priority=normale&limit=20"
  scenario scale_tickets_list_page_50 "$LIST&page=50"
  scenario scale_tickets_search "/api/tickets-client/search?q=fissure%20porteur&limit=20"
  scenario scale_tickets_stats /api/tickets-client/stats
  # One caller at a time: the latency of one stats call, not of a queue of 32.
  scenario scale_tickets_stats_1 /api/tickets-client/stats 1
fi

python3 bench/report.py "$OUT" "$DB" "$DURATION" "$CONNECTIONS" \
  "$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER/status")" "$(getconf CLK_TCK)" "$CREATED"
