#!/usr/bin/env bash
# sse_fanout.sh — what 1,000 Server-Sent Events subscribers on one hot activity cost the RSVP
# path, and how long after an acknowledged RSVP they see it (issue 6), side by side in one run
# (docs/BENCHMARKS.md protocol: A B A B ..., same load settings, medians and ratios).
#
# Starts rsvpd on loopback (temp data dir, unique --shm-name, --max-sse-clients above N), then for
# each pair runs, each on a fresh activity of capacity 1,000,000 created through the API:
#   A  no-subscribers    rsvpd-load --scenario hot --activity-id ID (closed loop)
#   B  subscribers       the same, while rsvpd-sse-bench holds N streams on that activity and
#                        probes the delay from an RSVP's 201 to its event at every subscriber
# and prints the medians (RSVPs/s without and with subscribers, their ratio, delay p50/p99) and
# writes them to the results file. B also carries the probe's ~20 RSVPs/s (not counted as load).
#
# Usage: benchmarks/compare/sse_fanout.sh [--pairs N] [--duration S] [--connections C]
#                                         [--subscribers N] [--out FILE]
# Env: BUILD_DIR (default <repo>/build), RSVPD_THREADS (default 1).
# Caveat printed with the figures: the daemon, the load driver and the subscribers share the
# machine's cores, so the subscribers' own parsing is part of the cost measured in B.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
bin=$build/bin
rsvpd_threads=${RSVPD_THREADS:-1}
pairs=3
duration=6
connections=256
subscribers=1000
out=""
readonly kPairsMax=10 kDurationMax=60 kBenchReadyPollsMax=600 kSseClientsSpare=100

while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "sse_fanout: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$pairs" -lt 2 ] || [ "$pairs" -gt "$kPairsMax" ]; then
  echo "sse_fanout: --pairs must be 2..$kPairsMax" >&2; exit 2
fi
if [ "$duration" -lt 2 ] || [ "$duration" -gt "$kDurationMax" ]; then
  echo "sse_fanout: --duration must be 2..$kDurationMax seconds" >&2; exit 2
fi
for program in rsvpd rsvpd-load rsvpd-sse-bench rsvpctl; do
  [ -x "$bin/$program" ] || { echo "sse_fanout: $bin/$program missing (scripts/build.sh release --target $program)" >&2; exit 2; }
done
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "sse_fanout: $tool missing" >&2; exit 2; }
done
[ -n "$out" ] || out="$build/bench-sse.txt"
mkdir -p "$(dirname "$out")"

# shellcheck source=benchmarks/compare/lib.sh
. "$repo/benchmarks/compare/lib.sh"
bench_init sse-fanout
rsvpd_bin=$bin/rsvpd
start_rsvpd sse-fanout --threads "$rsvpd_threads" --max-sse-clients $((subscribers + kSseClientsSpare)) \
  || { echo "sse_fanout: rsvpd did not start" >&2; exit 1; }
port=$rsvpd_port
daemon=$rsvpd_pid
admin=$("$bin/rsvpctl" token issue --data-dir "$tmp/rsvpd-data" --user sse-fanout --role admin --ttl 1h)

# create_activity ID: a fresh hot activity, so no run books on another run's seats.
create_activity() {
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/activities" \
    -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d "{\"id\":\"$1\",\"title\":\"sse fan-out\",\"capacity\":1000000,\"max_guests\":0,\"waitlist\":true}"
}

# daemon_cpu_ticks: the daemon's user + system CPU so far, in clock ticks (/proc/PID/stat).
daemon_cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$daemon/stat"
}

# metric NAME: a counter from the daemon's /metrics (0 when absent).
metric() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk -v name="$1" '$1 == name {print $2; found = 1} END {if (!found) print 0}'
}

# run_load ID JSON: the same closed-loop hot load in A and B. Over the whole run (warmup, load and
# verification) the daemon's CPU seconds, its LMDB commits and the capacity events it coalesced
# go to $tmp/daemon-figures, so events per subscriber can be read against commits.
run_load() {
  local before after commits coalesced
  before=$(daemon_cpu_ticks)
  commits=$(metric rsvpd_commits_total)
  coalesced=$(metric rsvpd_sse_events_coalesced_total)
  "$bin/rsvpd-load" --target "127.0.0.1:$port" --scenario hot --activity-id "$1" -c "$connections" \
    -t 1 -d "$duration" --warmup-s 1 --secret-file "$tmp/rsvpd-data/jwt.secret" --json-out "$2" \
    > "$tmp/load.txt" 2>&1 || { echo "sse_fanout: rsvpd-load failed on $1:" >&2; cat "$tmp/load.txt" >&2; }
  after=$(daemon_cpu_ticks)
  python3 -c 'import os,sys; a = [float(x) for x in sys.argv[1:]]
print((a[1] - a[0]) / os.sysconf("SC_CLK_TCK"), int(a[3] - a[2]), int(a[5] - a[4]), sep="\t")' \
    "$before" "$after" "$commits" "$(metric rsvpd_commits_total)" \
    "$coalesced" "$(metric rsvpd_sse_events_coalesced_total)" > "$tmp/daemon-figures"
}

# run_variant NAME PAIR: one measurement, appended to raw.tsv as
# variant pair rsvps_per_s verify delay_p50_ms delay_p99_ms delay_max_ms pairs events dropped
# id_violations send_p50_ms send_p99_ms before_ack subscribers_cpu_s daemon_cpu_s (delays after
# the 201, or after the send; the subscribers' CPU over their whole life, the daemon's over the load run)
# daemon_commits events_coalesced (daemon counters over the load run).
run_variant() {
  local name=$1 pair=$2 id="sse-$1-$2" load_json="$tmp/load-$1-$2.json" sse_json="$tmp/sse-$1-$2.json"
  create_activity "$id"
  if [ "$name" = subscribers ]; then
    rm -f "$tmp/ready"
    # The probes start 1 s after every stream is up, when the load's 1 s warmup ends, and stop
    # 1 s before its measured window does: the load's verification, which reads the activity's
    # counts and then its listing, must not race the probe's RSVPs.
    timeout -s KILL $((duration + 120)) "$bin/rsvpd-sse-bench" --target "127.0.0.1:$port" \
      --activity "$id" --subscribers "$subscribers" --probe-delay-s 1 --probe-duration-s $((duration - 1)) \
      --secret-file "$tmp/rsvpd-data/jwt.secret" --ready-file "$tmp/ready" --json-out "$sse_json" \
      > "$tmp/sse-$1-$2.txt" 2>&1 &
    local bench=$!
    pids+=("$bench")
    for ((i = 0; i < kBenchReadyPollsMax; i++)); do
      [ ! -e "$tmp/ready" ] && kill -0 "$bench" 2>/dev/null || break
      sleep 0.1
    done
    if [ ! -e "$tmp/ready" ]; then
      echo "sse_fanout: rsvpd-sse-bench did not get its subscribers up:" >&2; cat "$tmp/sse-$1-$2.txt" >&2; exit 1
    fi
    run_load "$id" "$load_json"
    wait "$bench" || echo "sse_fanout: rsvpd-sse-bench exited $? (see its table below)" >&2
    cat "$tmp/sse-$1-$2.txt"
  else
    run_load "$id" "$load_json"
  fi
  python3 - "$name" "$pair" "$load_json" "$sse_json" "$(cat "$tmp/daemon-figures")" >> "$tmp/raw.tsv" <<'PY'
import json, os, sys
name, pair, load_path, sse_path, daemon_figures = sys.argv[1:6]
rps, verify = "nan", "missing"
if os.path.exists(load_path) and os.path.getsize(load_path) > 0:
    d = json.load(open(load_path))
    rps = d["throughput_rps"]
    v = d.get("verify")
    verify = "-" if v is None else ("ok" if v["ok"] else "FAILED")
sse = ["-"] * 11
if name == "subscribers" and os.path.exists(sse_path) and os.path.getsize(sse_path) > 0:
    s = json.load(open(sse_path))
    sse = [s["delay_after_ack_ms"]["p50"], s["delay_after_ack_ms"]["p99"],
           s["delay_after_ack_ms"]["max"], s["pairs"]["measured"], s["events"], s["dropped"],
           s["id_violations"], s["delay_after_send_ms"]["p50"], s["delay_after_send_ms"]["p99"],
           s["pairs"]["before_ack"], s["cpu_s"]]
print("\t".join(str(x) for x in [name, pair, rps, verify] + sse + daemon_figures.split("\t")))
PY
  tail -1 "$tmp/raw.tsv"
}

printf 'variant\tpair\trsvps_per_s\tverify\tdelay_p50_ms\tdelay_p99_ms\tdelay_max_ms\tpairs\tevents\tdropped\tid_violations\tsend_p50_ms\tsend_p99_ms\tbefore_ack\tsubscribers_cpu_s\tdaemon_cpu_s\tdaemon_commits\tevents_coalesced\n' \
  | tee "$tmp/raw.tsv"
for ((pair = 1; pair <= pairs; pair++)); do
  run_variant no-subscribers "$pair"
  run_variant subscribers "$pair"
done

python3 - "$tmp/raw.tsv" "$out" "$pairs" "$duration" "$connections" "$subscribers" "$rsvpd_threads" <<'PY'
import datetime, statistics, subprocess, sys
raw, out, pairs, duration, connections, subscribers, rsvpd_threads = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
def col(variant, i):
    return [float(r[i]) for r in rows if r[0] == variant and r[i] not in ("-", "nan")]
a, b = col("no-subscribers", 2), col("subscribers", 2)
lines = [f"sse_fanout  {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}  "
         f"pairs={pairs} duration={duration}s hot closed loop -c {connections} -t 1, "
         f"subscribers={subscribers}, rsvpd_threads={rsvpd_threads}",
         f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
         "CAVEAT: daemon, load driver and subscribers share these cores (and others were compiling): "
         "absolute figures are noisy, only the same-run ratio counts"]
if a and b:
    ma, mb = statistics.median(a), statistics.median(b)
    lines.append(f"  RSVPs/s without subscribers (median of {len(a)})   {ma:10.0f}")
    lines.append(f"  RSVPs/s with {subscribers} subscribers (median of {len(b)}) {mb:10.0f}")
    lines.append(f"  ratio with / without                          {mb / ma:10.3f}")
p50, p99, mx = col("subscribers", 4), col("subscribers", 5), col("subscribers", 6)
if p50:
    lines.append(f"  delay 201 -> event at the subscribers, ms: p50 {statistics.median(p50):.3f}, "
                 f"p99 {statistics.median(p99):.3f} (medians over B runs), max {max(mx):.3f}")
    lines.append(f"  delay send -> event (bounds commit -> event), ms: p50 "
                 f"{statistics.median(col('subscribers', 11)):.3f}, p99 {statistics.median(col('subscribers', 12)):.3f}")
    lines.append(f"  (probe, subscriber) pairs measured {int(sum(col('subscribers', 7)))} "
                 f"(event before the 201: {int(sum(col('subscribers', 13)))}), events received "
                 f"{int(sum(col('subscribers', 8)))}, subscribers dropped {int(sum(col('subscribers', 9)))}, "
                 f"id violations {int(sum(col('subscribers', 10)))}")
da, db = col("no-subscribers", 15), col("subscribers", 15)
if da and db:
    lines.append(f"  daemon CPU s per load run (median): without {statistics.median(da):.2f}, with "
                 f"{statistics.median(db):.2f}; the subscribers' own process: "
                 f"{statistics.median(col('subscribers', 14)):.2f} s")
commits_b, coalesced_b = col("subscribers", 16), col("subscribers", 17)
events_b = col("subscribers", 8)
if commits_b and events_b:
    lines.append(f"  B runs: events per subscriber {statistics.median(events_b) / float(subscribers):.0f} "
                 f"against {statistics.median(commits_b):.0f} LMDB commits (medians; one event per "
                 f"commit that changed the activity, unless coalesced: {int(sum(coalesced_b))} coalesced)")
verifies = sorted({r[3] for r in rows})
lines.append(f"  load verification: {','.join(verifies)}")
lines.append("raw runs (" + "  ".join(["variant", "pair", "rsvps/s", "verify", "p50", "p99", "max",
                                       "pairs", "events", "dropped", "id_violations", "send-p50",
                                       "send-p99", "before-ack", "subscribers-cpu-s", "daemon-cpu-s",
                                       "commits", "coalesced"])
             + "; delays in ms after the 201):")
lines += ["  " + "  ".join(r) for r in rows]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text, end="")
PY
echo "sse_fanout: results written to $out"
