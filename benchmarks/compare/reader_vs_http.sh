#!/usr/bin/env bash
# reader_vs_http.sh — a capacity read through shared memory (librsvpd_reader, the way a co-located
# program reads) beside the same read over HTTP (GET /api/v1/activities/{id}/capacity), against
# one running rsvpd, alternated in one run (A B A B, medians and ratios; BENCHMARKS.md protocol).
#   shm      reader_bench BM_ReaderLiveDaemonRead: ns per read
#   http-1   rsvpd-load --scenario capacity-read, 1 connection: mean latency per request
#   http-64  the same with 64 connections: requests/s (its cost per read = 1e9 / req/s ns)
# Usage: benchmarks/compare/reader_vs_http.sh [pairs (default 3)] [seconds per HTTP run (default 5)]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BUILD_DIR:-$repo/build}/bin
pairs=${1:-3}
seconds=${2:-5}
for program in rsvpd rsvpd-load reader_bench rsvpctl; do
  [ -x "$bin/$program" ] || { echo "reader_vs_http: $bin/$program missing (scripts/build.sh release)" >&2; exit 2; }
done
tmp=$(mktemp -d /tmp/rsvpd-reader-vs-http.XXXXXX)
shm="rsvpd-reader-vs-http-$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/rsvpd" --data-dir "$tmp/data" --listen "127.0.0.1:$port" --shm-name "$shm" --log-level warn \
  2> "$tmp/rsvpd.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
admin=$("$bin/rsvpctl" token issue --data-dir "$tmp/data" --user bench --role admin --ttl 1h)
curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/activities" \
  -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"id":"read-me","capacity":100}'

: > "$tmp/raw.tsv"
for pair in $(seq "$pairs"); do
  RSVPD_BENCH_SHM="$shm" RSVPD_BENCH_ACTIVITY=read-me "$bin/reader_bench" \
    --benchmark_filter=BM_ReaderLiveDaemonRead --benchmark_format=json > "$tmp/shm.json"
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]; print("shm", b["real_time"])' \
    "$tmp/shm.json" >> "$tmp/raw.tsv"
  for conns in 1 64; do
    "$bin/rsvpd-load" --target "127.0.0.1:$port" --scenario capacity-read -c "$conns" -d "$seconds" \
      --warmup-s 1 --activities 1 --token "$admin" --no-verify --json-out "$tmp/http.json" > /dev/null
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=sys.argv[2]
print(f"http-{c}", d["latency_ms"]["p50"] * 1e6 if c == "1" else 1e9 / d["throughput_rps"])' \
      "$tmp/http.json" "$conns" >> "$tmp/raw.tsv"
  done
done
python3 - "$tmp/raw.tsv" "$pairs" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
ns = {}
for name, value in rows:
    ns.setdefault(name, []).append(float(value))
med = {name: statistics.median(values) for name, values in ns.items()}
print(f"reader_vs_http: {sys.argv[2]} pairs; CAVEAT: client and daemon share the machine's cores")
print(f"  shared memory read (librsvpd_reader)          {med['shm']:>12.1f} ns per read")
print(f"  HTTP GET /capacity, 1 connection (p50)       {med['http-1']:>12.0f} ns per request")
print(f"  HTTP GET /capacity, 64 connections (1/rate)  {med['http-64']:>12.0f} ns per request")
print(f"  ratio HTTP 1-connection latency / shm read: {med['http-1'] / med['shm']:,.0f}x")
print(f"  ratio HTTP 64-connection cost / shm read:   {med['http-64'] / med['shm']:,.0f}x")
PY
