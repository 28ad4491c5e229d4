#!/usr/bin/env bash
# nginx_vs_rsvpd.sh — rsvpd against the HTTP ceiling of this box, side by side in one run
# (docs/BENCHMARKS.md protocol: A B A B ..., same load settings, medians and ratios).
#
# Starts, on loopback only and in a temp dir (no system service):
#   - nginx, 1 worker, `return 200 '{"ok":true}'`;
#   - rsvpd (build/bin/rsvpd) on a temp data dir with a unique --shm-name, if it is built;
#     otherwise the rsvpd half is skipped with a message.
# Then, for each pair and each connection count, runs in turn:
#   nginx-wrk       wrk against nginx                      (the reference)
#   nginx-load      rsvpd-load --scenario static, nginx    (the driver against the same reference)
#   rsvpd-capacity  rsvpd-load --scenario capacity-read    (public reads, shared-memory path)
#   rsvpd-spread    rsvpd-load --scenario spread           (durable RSVPs over 100 activities)
#   rsvpd-hot       rsvpd-load --scenario hot              (durable RSVPs on one activity)
# and, with --rate R, open-loop runs at R req/s offered (p99 from the intended send time):
#   nginx-load-open, rsvpd-capacity-open (and rsvpd-spread-open when named in --variants)
# and prints the medians (req/s, p99 ms) and the ratios, and writes them to the results file.
# Every run also records CPU time per request sent (µs, user+system, warmup and verification
# included): the server's (nginx: master and worker) and the load driver's. On a box whose cores
# the two share, these say what bounds the throughput: 2 cores = 2,000,000 µs of CPU per second.
#
# Usage: benchmarks/compare/nginx_vs_rsvpd.sh [--pairs N] [--duration S] [--connections "256 1000"]
#                              [--rate R] [--variants "nginx-wrk nginx-load ..."] [--out FILE]
# Env: BUILD_DIR (default <repo>/build), RSVPD_BIN (default $BUILD_DIR/bin/rsvpd), LOAD_THREADS (wrk -t and rsvpd-load -t, default 1),
#      RSVPD_THREADS (default 1, like nginx's one worker).
# Caveat printed with the figures: client and server share the machine's cores.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
rsvpd_bin=${RSVPD_BIN:-$build/bin/rsvpd}
load_threads=${LOAD_THREADS:-1}
rsvpd_threads=${RSVPD_THREADS:-1}
pairs=2
duration=8
connections="256 1000"
variants=""
rate=0
out=""
readonly kPairsMax=10 kDurationMax=120 kNginxWorkerConnections=8192

while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "nginx_vs_rsvpd: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$pairs" -lt 2 ] || [ "$pairs" -gt "$kPairsMax" ]; then
  echo "nginx_vs_rsvpd: --pairs must be 2..$kPairsMax" >&2; exit 2
fi
if [ "$duration" -lt 1 ] || [ "$duration" -gt "$kDurationMax" ]; then
  echo "nginx_vs_rsvpd: --duration must be 1..$kDurationMax seconds" >&2; exit 2
fi
if [ -z "$variants" ]; then
  variants="nginx-wrk nginx-load rsvpd-capacity rsvpd-spread rsvpd-hot"
  [ "$rate" = 0 ] || variants="$variants nginx-load-open rsvpd-capacity-open"
fi
for tool in nginx wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "nginx_vs_rsvpd: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
load="$build/bin/rsvpd-load"
[ -x "$load" ] || { echo "nginx_vs_rsvpd: $load missing: cmake --build build -j2 --target rsvpd-load" >&2; exit 2; }
[ -n "$out" ] || out="$build/bench-results/nginx_vs_rsvpd-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$(dirname "$out")"

# shellcheck source=benchmarks/compare/lib.sh
. "$repo/benchmarks/compare/lib.sh"
bench_init compare
clock_ticks=$(getconf CLK_TCK)

rsvpd_up=0
# start_rsvpd_if_built: the rsvpd half runs only when the daemon is built and comes up.
start_rsvpd_if_built() {
  if [ ! -x "$rsvpd_bin" ]; then
    echo "nginx_vs_rsvpd: $rsvpd_bin is not built yet: skipping the rsvpd half" >&2
    return 0
  fi
  if start_rsvpd compare --threads "$rsvpd_threads"; then
    rsvpd_up=1
  else
    echo "nginx_vs_rsvpd: skipping the rsvpd half" >&2
  fi
}

# rate_of NAME: the offered rate for rsvpd-load (0 = closed loop).
rate_of() {
  case "$1" in *-open) echo "$rate" ;; *) echo 0 ;; esac
}

# run_variant NAME CONNS PAIR: one measurement, appended to raw.tsv as
# variant conns pair rps p99_ms verify.
run_variant() {
  local name=$1 conns=$2 pair=$3 json="$tmp/$1-$2-$3.json" rps p99 verify="-" sent server_pid
  local TIMEFORMAT='%U %S'  # bash's `time`: the driver's user and system seconds.
  case "$name" in nginx-*) server_pid=$nginx_pid ;; *) server_pid=${rsvpd_pid:-0} ;; esac
  local ticks_before
  ticks_before=$(cpu_ticks "$server_pid")
  case "$name" in
    nginx-wrk)
      { time wrk -t"$load_threads" -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$nginx_port/" > "$tmp/wrk.txt"; } 2> "$tmp/driver-time.txt"
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.txt")
      p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$tmp/wrk.txt")
      ;;
    nginx-load|nginx-load-open)
      { time "$load" --target "127.0.0.1:$nginx_port" --scenario static -c "$conns" -t "$load_threads" \
        -d "$duration" --warmup-s 1 --rate "$(rate_of "$name")" --json-out "$json" \
        > "$tmp/load.txt" 2>&1 || true; } 2> "$tmp/driver-time.txt"
      ;;
    rsvpd-capacity|rsvpd-spread|rsvpd-hot|rsvpd-capacity-open|rsvpd-spread-open|rsvpd-hot-open)
      [ "$rsvpd_up" = 1 ] || return 0
      local scenario=capacity-read activities=100
      case "$name" in rsvpd-spread*) scenario=spread ;; rsvpd-hot*) scenario=hot activities=1 ;; esac
      { time "$load" --target "127.0.0.1:$rsvpd_port" --scenario "$scenario" -c "$conns" -t "$load_threads" \
        -d "$duration" --warmup-s 1 --rate "$(rate_of "$name")" --activities "$activities" --capacity 1000 \
        --secret-file "$tmp/rsvpd-data/jwt.secret" --json-out "$json" > "$tmp/load.txt" 2>&1 || true; } 2> "$tmp/driver-time.txt"
      ;;
    *) echo "nginx_vs_rsvpd: unknown variant $name" >&2; exit 2 ;;
  esac
  if [ "$name" != nginx-wrk ]; then
    if [ ! -s "$json" ]; then
      echo "nginx_vs_rsvpd: $name at $conns connections failed:" >&2; cat "$tmp/load.txt" >&2; return 0
    fi
    read -r rps p99 verify sent < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d.get("verify"); print(d["throughput_rps"], d["latency_ms"]["p99"], "-" if v is None else ("ok" if v["ok"] else "FAILED"), d["sent"])' "$json")
  else
    sent=$(awk '/requests in/ {print $1; exit}' "$tmp/wrk.txt")
  fi
  local server_us driver_us
  read -r server_us driver_us < <(python3 -c '
import sys
before, after, ticks, sent, user_s, sys_s = sys.argv[1:7]
sent = max(int(sent), 1)
print(f"{(int(after) - int(before)) / int(ticks) * 1e6 / sent:.1f}",
      f"{(float(user_s) + float(sys_s)) * 1e6 / sent:.1f}")' \
    "$ticks_before" "$(cpu_ticks "$server_pid")" "$clock_ticks" "${sent:-0}" $(tail -1 "$tmp/driver-time.txt"))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$pair" "$rps" "$p99" "$verify" \
    "$server_us" "$driver_us" | tee -a "$tmp/raw.tsv"
}

start_nginx "$kNginxWorkerConnections"
start_rsvpd_if_built
printf 'variant\tconns\tpair\treq_per_s\tp99_ms\tverify\tserver_cpu_us_per_req\tdriver_cpu_us_per_req\n' | tee "$tmp/raw.tsv"
for ((pair = 1; pair <= pairs; pair++)); do
  for conns in $connections; do
    for variant in $variants; do run_variant "$variant" "$conns" "$pair"; done
  done
done

python3 - "$tmp/raw.tsv" "$out" "$pairs" "$duration" "$load_threads" "$rsvpd_threads" "$rsvpd_up" "$rate" <<'PY'
import statistics, sys, datetime, subprocess
raw, out, pairs, duration, load_threads, rsvpd_threads, rsvpd_up, rate = sys.argv[1:9]
rows = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
med = {}
for variant, conns, _, rps, p99, verify, server_us, driver_us in rows:
    med.setdefault((variant, int(conns)), []).append(
        (float(rps), float(p99), verify, float(server_us), float(driver_us)))
lines = []
lines.append(f"nginx_vs_rsvpd  {datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ')}  "
             f"pairs={pairs} duration={duration}s load_threads={load_threads} rsvpd_threads={rsvpd_threads}"
             + (f" open-loop rate={rate} req/s (*-open rows: p99 from the intended send time)" if rate != "0" else ""))
lines.append(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
             "CAVEAT: the load generator shares these cores with the server")
if rsvpd_up != "1":
    lines.append("rsvpd: not built or not ready in this run: its rows are missing")
lines.append(f"{'variant':<20}{'conns':>6}{'median req/s':>14}{'median p99 ms':>15}"
             f"{'server µs/req':>15}{'driver µs/req':>15}  runs  verify")
for (variant, conns), runs in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    verify = ",".join(sorted({r[2] for r in runs}))
    lines.append(f"{variant:<20}{conns:>6}{statistics.median(r[0] for r in runs):>14.0f}"
                 f"{statistics.median(r[1] for r in runs):>15.3f}"
                 f"{statistics.median(r[3] for r in runs):>15.1f}"
                 f"{statistics.median(r[4] for r in runs):>15.1f}  {len(runs):>4}  {verify}")
lines.append("CPU µs per request sent (user+system, warmup and verification included); "
             "the box has 2,000,000 µs of CPU per second for server and driver together")
lines.append("ratios of medians (req/s, or p99 for open loop):")
for conns in sorted({c for _, c in med}):
    def m(v):
        runs = med.get((v, conns))
        return statistics.median(r[0] for r in runs) if runs else None
    for a, b in [("nginx-load", "nginx-wrk"), ("rsvpd-capacity", "nginx-wrk"),
                 ("rsvpd-capacity", "nginx-load"), ("rsvpd-spread", "nginx-load"),
                 ("rsvpd-hot", "nginx-load"), ("rsvpd-spread", "nginx-wrk"),
                 ("rsvpd-hot", "nginx-wrk"), ("rsvpd-hot", "rsvpd-spread")]:
        if m(a) and m(b):
            lines.append(f"  {conns:>5} conns  {a} / {b} = {m(a) / m(b):.3f}")
    # Open loop offers the same rate to both: the comparison is latency, not throughput.
    open_a, open_b = med.get(("rsvpd-capacity-open", conns)), med.get(("nginx-load-open", conns))
    if open_a and open_b:
        pa, pb = statistics.median(r[1] for r in open_a), statistics.median(r[1] for r in open_b)
        if pb > 0:
            lines.append(f"  {conns:>5} conns  p99 rsvpd-capacity-open / nginx-load-open = {pa / pb:.3f}")
lines.append("raw runs (variant conns pair req/s p99_ms verify server_us driver_us):")
lines += ["  " + "  ".join(r) for r in rows]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text, end="")
PY
echo "nginx_vs_rsvpd: results written to $out"
