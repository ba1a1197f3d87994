"""The report of bench/run.sh: results.md (Markdown) and results.json from wrk's RESULT lines.

usage: report.py OUT DB DURATION CONNECTIONS PEAK_RSS_KIB CLK_TCK CREATED
"""

import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys

out = pathlib.Path(sys.argv[1])
db, duration, connections = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
peak_rss_kib, clk, created = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])

# The targets on this 2-core machine: (min req/s on SQLite, on PostgreSQL, max p99 ms).
TARGETS = {
    "tickets_list": (5000, 2500, 10),
    "client_projects": (5000, 2500, 10),
    "tickets_detail": (20000, None, 5),
    "client_invoice_detail": (20000, None, 5),
    "auth_me": (20000, None, 5),
    "tickets_create": (1500, None, None),
    "login": (80, 80, None),
    "scale_tickets_list": (None, None, 20),
    "scale_tickets_stats": (None, None, 200),
    "scale_tickets_stats_1": (None, None, 200),
}


def wrk_result(name):
    for line in (out / f"{name}.wrk.txt").read_text().splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"{name}: wrk printed no RESULT line")


def target_text(name, rps, p99, requests):
    target = TARGETS.get(name)
    if not target:
        return ""
    if requests == 0:
        return "missed: no answer within wrk's timeout"
    min_rps = target[1] if db == "postgres" else target[0]
    parts, met = [], True
    if min_rps is not None:
        parts.append(f"≥ {min_rps:,} req/s")
        met &= rps >= min_rps
    if target[2] is not None:
        parts.append(f"p99 < {target[2]} ms")
        met &= p99 < target[2]
    if not parts:
        return ""
    return ("met: " if met else "missed: ") + ", ".join(parts)


def machine():
    model = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = int(pathlib.Path("/proc/meminfo").read_text().split()[1])
    return (f"{model}, {os.cpu_count()} cores, {mem_kib / 1048576:.0f} GiB RAM, "
            f"Linux {platform.release()}")


def git_revision():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        return f"{head} with uncommitted changes" if changed else head
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


rows = []
for line in (out / "scenarios.txt").read_text().splitlines():
    name, path, ticks, conns, rss = line.split()
    r = wrk_result(name)
    seconds = r["duration_us"] / 1e6
    rps = r["requests"] / seconds if seconds else 0.0
    rows.append({
        "scenario": name, "path": path, "connections": int(conns),
        "requests": r["requests"], "rps": round(rps, 1),
        "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000, "max_ms": r["max_us"] / 1000,
        "socket_errors": r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"],
        "non_2xx": r["non_2xx"], "server_cpu_s": int(ticks) / clk, "rss_after_mib": int(rss) / 1024,
    })
ceiling = rows[0]["rps"] if rows and rows[0]["scenario"] == "health" else 0.0
for r in rows:
    r["ratio_to_health"] = round(r["rps"] / ceiling, 4) if ceiling else None
    r["target"] = target_text(r["scenario"], r["rps"], r["p99_ms"], r["requests"])

result = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": machine(), "database": db, "revision": git_revision(),
    "duration_s": duration, "connections": connections,
    "peak_rss_mib": round(peak_rss_kib / 1024, 1),
    "seed": (out / "seed.txt").read_text().strip().splitlines(),
    "results": rows,
}
by_name = {r["scenario"]: r for r in rows}

if "tickets_create" in by_name:
    ok = by_name["tickets_create"]["requests"] - by_name["tickets_create"]["non_2xx"]
    result["create_check"] = {"answered_201": ok, "rows_added": created, "lost": max(0, ok - created)}

storm_file = out / "storm.wrk.txt"
if storm_file.exists() and "login_storm_list_during" in by_name:
    storm = wrk_result("storm")
    alone, during = by_name["login_storm_list_alone"], by_name["login_storm_list_during"]
    result["login_storm"] = {
        "rejected_logins_per_s": round(storm["requests"] / (storm["duration_us"] / 1e6), 1),
        "list_p99_alone_ms": alone["p99_ms"], "list_p99_during_ms": during["p99_ms"],
        "p99_ratio": round(during["p99_ms"] / alone["p99_ms"], 2) if alone["p99_ms"] else None,
    }

explain = out / "explain.txt"
if explain.exists():
    result["explain"] = explain.read_text()

lines = [
    f"Run of {result['date']} on {result['machine']}; {db}, revision {result['revision']}; "
    f"wrk with {connections} connections (unless the row says otherwise), {duration} s per scenario, "
    "on the same machine as the server; a request unanswered after 30 s counts as an error.",
    "",
    "Seed: " + "; ".join(result["seed"]),
    "",
    "| scenario | path | conns | req/s | p50 ms | p90 ms | p99 ms | errors | non-2xx "
    "| ratio to /health | server CPU s | RSS after MiB | target |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]
for r in rows:
    ratio = f"{r['ratio_to_health']:.3f}" if r["ratio_to_health"] is not None else "–"
    lines.append(
        f"| {r['scenario']} | `{r['path']}` | {r['connections']} | {r['rps']:,.0f} "
        f"| {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['socket_errors']} "
        f"| {r['non_2xx']} | {ratio} | {r['server_cpu_s']:.1f} | {r['rss_after_mib']:.1f} "
        f"| {r['target']} |")
lines.append("")
rss_met = "met" if result["peak_rss_mib"] < 60 else "missed"
lines.append(f"Server peak RSS (VmHWM) over the whole run: {result['peak_rss_mib']} MiB "
             f"({rss_met}: < 60 MiB).")
if "create_check" in result:
    c = result["create_check"]
    lines.append(f"Creates: {c['answered_201']:,} answered 201, {c['rows_added']:,} rows added, "
                 f"{c['lost']} lost.")
if "login_storm" in result:
    s = result["login_storm"]
    storm_met = "met" if s["p99_ratio"] is not None and s["p99_ratio"] <= 3 else "missed"
    lines.append(
        f"Login storm (64 connections of wrong passwords, {s['rejected_logins_per_s']:,.0f} "
        f"rejected/s): ticket list p99 {s['list_p99_alone_ms']:.2f} ms alone, "
        f"{s['list_p99_during_ms']:.2f} ms during the storm (× {s['p99_ratio']}; {storm_met}: ≤ 3×).")
if explain.exists():
    lines += ["", "Plans of the filtered list with the scale data set:", "", "```",
              explain.read_text().rstrip(), "```"]
markdown = "\n".join(lines) + "\n"
(out / "results.md").write_text(markdown)
(out / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
print()
print(markdown)
