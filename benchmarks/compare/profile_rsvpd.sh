#!/usr/bin/env bash
# profile_rsvpd.sh — where one rsvpd spends its CPU under rsvpd-load (docs/BENCHMARKS.md).
#
# Starts build/bin/rsvpd on a temp data dir (loopback, unique --shm-name), runs one rsvpd-load
# scenario against it and prints:
#   - the driver's summary (throughput, latency, verification);
#   - CPU seconds per thread (rsvpd-writer, rsvpd-io-N, rsvpd-events) and CPU µs per request
#     sent, for rsvpd and for the driver (2 cores = 2,000,000 µs of CPU per second for both);
#   - the writer's commit figures from /metrics (commits, requests per commit, commit latency);
#   - with --perf: a `perf record` of the daemon during the measured window (software clock,
#     DWARF call graphs, so it works on VMs without a PMU), and the top symbols per thread.
#
# Usage: benchmarks/compare/profile_rsvpd.sh [--scenario hot|spread|capacity-read|mixed]
#          [-c CONNS] [-d SECONDS] [--rate R] [--perf] [--out DIR] [-- extra rsvpd flags]
# Env: BUILD_DIR (default <repo>/build), RSVPD_BIN (default $BUILD_DIR/bin/rsvpd).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
rsvpd_bin=${RSVPD_BIN:-$build/bin/rsvpd}
load="$build/bin/rsvpd-load"
scenario=hot
conns=256
duration=8
rate=0
perf=0
out=""
readonly kDurationMax=120 kPerfHz=499
daemon_flags=()

while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) scenario=$2; shift 2 ;;
    -c) conns=$2; shift 2 ;;
    -d) duration=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --perf) perf=1; shift ;;
    --out) out=$2; shift 2 ;;
    --) shift; daemon_flags=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "profile_rsvpd: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$duration" -lt 3 ] || [ "$duration" -gt "$kDurationMax" ]; then
  echo "profile_rsvpd: -d must be 3..$kDurationMax seconds" >&2; exit 2
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "profile_rsvpd: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ "$perf" = 0 ] || command -v perf >/dev/null || { echo "profile_rsvpd: perf missing (apt-get install linux-perf)" >&2; exit 2; }
[ -x "$rsvpd_bin" ] && [ -x "$load" ] || { echo "profile_rsvpd: build first: ./scripts/build.sh release" >&2; exit 2; }
[ -n "$out" ] || out="$build/bench-results/profile-$scenario-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

# shellcheck source=benchmarks/compare/lib.sh
. "$repo/benchmarks/compare/lib.sh"
bench_init profile
start_rsvpd profile "${daemon_flags[@]}" || { echo "profile_rsvpd: rsvpd did not start" >&2; exit 1; }
daemon_pid=$rsvpd_pid
port=$rsvpd_port

# thread_cpu: "name seconds" per thread of the daemon.
thread_cpu() {
  local ticks task
  ticks=$(getconf CLK_TCK)
  for task in /proc/"$daemon_pid"/task/*; do
    python3 -c 'import sys; s=open(sys.argv[1] + "/stat").read(); f=s[s.rindex(")") + 2:].split(); print(open(sys.argv[1] + "/comm").read().strip(), (int(f[11]) + int(f[12])) / int(sys.argv[2]))' "$task" "$ticks"
  done
}
thread_cpu > "$tmp/cpu-before.txt"

if [ "$perf" = 1 ]; then
  # The measured window only: after the 1 s warmup, stopped 1 s before the end.
  (sleep 2; timeout -s INT $((duration - 2)) perf record -F "$kPerfHz" -e cpu-clock --call-graph dwarf,16384 \
     -p "$daemon_pid" -o "$out/perf.data" > "$tmp/perf.log" 2>&1 || true) &
  perf_job=$!
fi
activities=0
[ "$scenario" = capacity-read ] && activities=100
TIMEFORMAT='%U %S'
{ time "$load" --target "127.0.0.1:$port" --scenario "$scenario" -c "$conns" -t 1 -d "$duration" \
    --warmup-s 1 --rate "$rate" --activities "$activities" --capacity 1000 \
    --secret-file "$tmp/rsvpd-data/jwt.secret" --json-out "$out/load.json" > "$out/load.txt" 2>&1 || true; } 2> "$tmp/driver-time.txt"
[ "$perf" = 0 ] || wait "$perf_job"
thread_cpu > "$tmp/cpu-after.txt"
curl -s "http://127.0.0.1:$port/metrics" > "$out/metrics.txt" || true

python3 - "$tmp/cpu-before.txt" "$tmp/cpu-after.txt" "$tmp/driver-time.txt" "$out/load.json" "$out/metrics.txt" <<'PY' | tee "$out/summary.txt"
import json, sys
before_file, after_file, driver_file, load_file, metrics_file = sys.argv[1:6]
def cpu(path):
    totals = {}
    for line in open(path):
        name, seconds = line.rsplit(" ", 1)
        totals[name] = totals.get(name, 0.0) + float(seconds)
    return totals
before, after = cpu(before_file), cpu(after_file)
load = json.load(open(load_file))
sent = max(load["sent"], 1)
user_s, sys_s = (float(x) for x in open(driver_file).read().split()[-2:])
print(f"scenario {load['scenario']}  {load['mode']} loop  connections {load['connections']}  "
      f"throughput {load['throughput_rps']:.0f} req/s  p99 {load['latency_ms']['p99']:.2f} ms  "
      f"sent {sent}")
verify = load.get("verify")
if verify is not None:
    print("verification:", "ok" if verify["ok"] else "FAILED")
print("CPU per thread during the run (s), and µs per request sent:")
daemon_total = 0.0
for name in sorted(after):
    used = after[name] - before.get(name, 0.0)
    daemon_total += used
    print(f"  {name:<16}{used:8.2f} s {used * 1e6 / sent:8.1f} µs/req")
print(f"  {'rsvpd (all)':<16}{daemon_total:8.2f} s {daemon_total * 1e6 / sent:8.1f} µs/req")
print(f"  {'driver':<16}{user_s + sys_s:8.2f} s {(user_s + sys_s) * 1e6 / sent:8.1f} µs/req")
metrics = {}
for line in open(metrics_file):
    if line and not line.startswith("#") and " " in line:
        key, value = line.rsplit(" ", 1)
        try:
            metrics[key] = float(value)
        except ValueError:
            pass
commits = metrics.get("rsvpd_commits_total", 0)
if commits:
    print(f"writer: {commits:.0f} commits, {metrics.get('rsvpd_commit_batch_requests_total', 0) / commits:.1f} "
          f"requests per commit, {metrics.get('rsvpd_commit_latency_seconds_total', 0) / commits * 1000:.2f} ms "
          f"mean commit, {metrics.get('rsvpd_commit_latency_us_max', 0) / 1000:.1f} ms max")
PY
if [ "$perf" = 1 ] && [ -s "$out/perf.data" ]; then
  perf report -i "$out/perf.data" --no-children -s comm -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | tee -a "$out/summary.txt"
  for thread in $(perf report -i "$out/perf.data" --no-children -s comm -g none --stdio 2>/dev/null | awk '/%/ {print $2}'); do
    echo "== $thread: top inclusive symbols (% of all samples)" | tee -a "$out/summary.txt"
    perf report -i "$out/perf.data" --children --comm "$thread" -s sym -g none --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | grep -v 'inlined' | head -40 | cut -c1-150 | tee -a "$out/summary.txt"
  done
fi
echo "profile_rsvpd: results in $out"
