#!/usr/bin/env bash
# Load benchmark: release server on a fresh SQLite database seeded with BENCH_TICKETS tickets
# (bench/seed), driven by wrk at fixed concurrency for a fixed duration per scenario. Prints a
# Markdown table, writes bench/out/results.json.
#   BENCH_DURATION (s, default 10)  BENCH_CONNECTIONS (default 32)  BENCH_THREADS (default 2)
#   BENCH_TICKETS (default 100000)  BENCH_COMPANIES (default 1000)
#   BENCH_PLANNING_SHIFTS (default 2000: a week of shifts, staffed, on ten chantiers)
#   BENCH_SCENARIOS (an extended regex: run only the scenarios it matches; /health always runs)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi

cargo build --release -q -p server -p bench-seed
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh
trap stop_presta EXIT
start_presta ./target/release/presta "$OUT/server.log"
PORT=$PRESTA_PORT
SERVER=$PRESTA_PID

echo "seeding: ${BENCH_COMPANIES:-1000} companies, ${BENCH_TICKETS:-100000} tickets"
./target/release/presta-seed --database-url "sqlite://$PRESTA_DATA/presta.db?mode=rwc" \
  --companies "${BENCH_COMPANIES:-1000}" --tickets "${BENCH_TICKETS:-100000}" \
  --planning-shifts "${BENCH_PLANNING_SHIFTS:-2000}"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
selected() { [ -z "${BENCH_SCENARIOS:-}" ] || [[ $1 =~ $BENCH_SCENARIOS ]]; }
# scenario NAME PATH [CONNECTIONS] [BODY]: wrk at fixed concurrency; a BODY makes it a POST.
# With AUTH=1 in its environment, $BENCH_TOKEN is sent as the bearer token.
scenario() {
  local name=$1 path=$2 connections=${3:-$CONNECTIONS} body=${4:-}
  local before after script=() auth=()
  if [ "$name" != health ] && ! selected "$name"; then return 0; fi
  if [ -n "$body" ]; then script=(-s bench/post_json.lua); fi
  local token=""
  if [ -n "${AUTH:-}" ]; then token=$BENCH_TOKEN; fi
  if [ -n "$token" ] && [ -z "$body" ]; then auth=(-H "Authorization: Bearer $token"); fi
  before=$(cpu_ticks)
  BENCH_BODY="$body" BENCH_TOKEN="$token" wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency "${script[@]}" \
    "${auth[@]}" "http://127.0.0.1:$PORT$path" >"$OUT/$name.wrk.txt"
  after=$(cpu_ticks)
  echo "$name $path $(( after - before )) $connections" >>"$OUT/cpu.txt"
}

LOGIN_OK="{\"email\":\"$PRESTA_ADMIN_EMAIL\",\"password\":\"$PRESTA_ADMIN_PASSWORD\"}"
LOGIN_BAD="{\"email\":\"$PRESTA_ADMIN_EMAIL\",\"password\":\"not-the-password-123\"}"

# Tickets are read as a superadmin; a 15-minute access token covers the run.
api() { curl -fs -H "Authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:$PORT$1"; }
BENCH_TOKEN=$(curl -fs -H 'Content-Type: application/json' -d "$LOGIN_OK" \
  "http://127.0.0.1:$PORT/api/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')
NUMERO=$(api "/api/tickets-client?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["numero"])')
CLIENT=$(api "/api/clients?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')
: >"$OUT/cpu.txt"
scenario health /health
scenario not_found /api/no-such-route
# Logins are Argon2id-bound (m=19456 KiB, t=2): the honest figure is per core.
scenario login /api/auth/login 8 "$LOGIN_OK"
# The login storm: 64 connections of bad passwords while /health is measured.
rm -f "$OUT/storm.wrk.txt"
if selected login_storm; then
  BENCH_BODY="$LOGIN_BAD" wrk -t1 -c64 -d"$((DURATION + 2))s" -s bench/post_json.lua \
    "http://127.0.0.1:$PORT/api/auth/login" >"$OUT/storm.wrk.txt" &
  STORM=$!
  sleep 1
  scenario health_during_login_storm /health 8
  wait "$STORM"
fi

# (token taken before the login storm, which locks the account it hammers)
AUTH=1 scenario tickets_list "/api/tickets-client?status=en_cours&priority=normale&limit=100"
AUTH=1 scenario tickets_list_client_filter "/api/tickets-client?client_id=$CLIENT&limit=100"
AUTH=1 scenario tickets_detail "/api/tickets-client/$NUMERO"
AUTH=1 scenario tickets_search "/api/tickets-client/search?q=fissure%20porteur&limit=20"
AUTH=1 scenario tickets_stats "/api/tickets-client/stats"
AUTH=1 scenario tickets_create /api/tickets-client "$CONNECTIONS" \
  "{\"titre\":\"Fuite sur la colonne d'eau\",\"description\":\"Constatée au 2e étage.\",\"priority\":\"haute\",\"categorie\":\"qualite\",\"client_id\":\"$CLIENT\"}"

# Planning PRO: a week of 2,000 shifts on ten chantiers (seeded, staffed by the solver). The
# preview is the conflict check every planning write runs: load the plan around the shift,
# put a collaborator on it, check, rank fixes.
PLANNING=$(api "/api/v1/planning/shifts?from=2027-03-01&to=2027-03-07&limit=1" | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d[0]["id"], d[0]["site_id"]) if d else print("- -")')
PSHIFT=${PLANNING% *}
PSITE=${PLANNING#* }
PCOLLAB=$(api "/api/v1/planning/collaborators?limit=1" | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d[0]["user_id"] if d else "-")')
if [ "$PSHIFT" != - ] && [ "$PCOLLAB" != - ]; then
  AUTH=1 scenario planning_week_list "/api/v1/planning/shifts?site_id=$PSITE&from=2027-03-01&to=2027-03-07&limit=100"
  AUTH=1 scenario planning_conflict_preview /api/v1/planning/conflicts/preview "$CONNECTIONS" \
    "{\"shift_id\":\"$PSHIFT\",\"collaborator_ids\":[\"$PCOLLAB\"]}"
fi

# The client portal, as the demo company's client (`presta seed-demo`: 5 projects, 3 documents,
# 3 invoices, 3 payments), with a signed-in access token.
CLIENT_PASSWORD="Bench-Portal-$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
DATABASE_URL="sqlite://$PRESTA_DATA/presta.db?mode=rwc" DATA_DIR="$PRESTA_DATA" REDIS_URL= RUST_LOG=warn \
  ./target/release/presta seed-demo --email bench-client@presta.local --password "$CLIENT_PASSWORD" >/dev/null
BENCH_TOKEN=$(curl -fs -H 'Content-Type: application/json' \
  -d "{\"email\":\"bench-client@presta.local\",\"password\":\"$CLIENT_PASSWORD\"}" \
  "http://127.0.0.1:$PORT/api/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')
INVOICE=$(api "/api/client/invoices?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')
AUTH=1 scenario client_projects "/api/client/projects"
AUTH=1 scenario client_invoices "/api/client/invoices"
AUTH=1 scenario client_invoice_detail "/api/client/invoices/$INVOICE"
AUTH=1 scenario client_invoice_pdf "/api/client/invoices/$INVOICE/pdf"
AUTH=1 scenario client_balance "/api/client/balance"
AUTH=1 scenario client_transactions "/api/client/transactions"
AUTH=1 scenario client_dashboard "/api/client/dashboard/stats"
AUTH=1 scenario client_activity "/api/client/dashboard/activity"

python3 - "$OUT" "$DURATION" "$CONNECTIONS" "$(grep VmHWM "/proc/$SERVER/status" | awk '{print $2}')" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys, pathlib, platform, datetime, os
out, duration, connections, rss_kib, clk = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def ms(value):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rows = []
cpu = {l.split()[0]: int(l.split()[2]) for l in (out / "cpu.txt").read_text().splitlines()}
for line in (out / "cpu.txt").read_text().splitlines():
    name, path, _, conns = line.split()
    text = (out / f"{name}.wrk.txt").read_text()
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    rows.append({"scenario": name, "path": path, "connections": int(conns), "rps": rps, "p50_ms": ms(pct["50"]), "p90_ms": ms(pct["90"]),
                 "p99_ms": ms(pct["99"]), "socket_errors": errors, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
                 "server_cpu_s": cpu[name] / clk})
ceiling = rows[0]["rps"]
for r in rows:
    r["ratio_to_health"] = r["rps"] / ceiling
result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
          "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
          "duration_s": duration, "connections": connections, "peak_rss_mib": round(rss_kib / 1024, 1), "results": rows}
(out / "results.json").write_text(json.dumps(result, indent=2))
print(f"\n{result['machine']}; {connections} connections, {duration} s per scenario; server peak RSS {result['peak_rss_mib']} MiB\n")
storm_file = out / "storm.wrk.txt"
storm = storm_file.read_text() if storm_file.exists() else "Requests/sec: 0"
storm_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", storm).group(1))
result["login_storm_rps"] = storm_rps
(out / "results.json").write_text(json.dumps(result, indent=2))
print("| scenario | path | conns | req/s | p50 ms | p90 ms | p99 ms | errors | non-2xx | ratio to /health | server CPU s |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['scenario']} | `{r['path']}` | {r['connections']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['socket_errors']} | {r['non_2xx']} | {r['ratio_to_health']:.2f} | {r['server_cpu_s']:.1f} |")
print(f"\nLogin storm (64 connections, wrong password): {storm_rps:.0f} rejected logins/s while /health was measured.")
PY
