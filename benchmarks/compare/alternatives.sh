#!/usr/bin/env bash
# alternatives.sh — rsvpd against what teams would build instead, side by side in one run
# (docs/BENCHMARKS.md protocol: A B A B ..., same load settings, medians and ratios).
#
# Same reserve semantics everywhere: the RSVP is confirmed when the party fits and nobody is
# waiting, otherwise it joins the end of the waitlist; it is durable before the reply. Starts, on
# loopback only and in a temp dir (no system service):
#   rsvpd  build/bin/rsvpd, unique --shm-name, driven by rsvpd-load (POST /api/v1/rsvps);
#   pg     a throwaway PostgreSQL 15 cluster (initdb, fsync=on, synchronous_commit=on), PL/pgSQL
#          reserve(): SELECT ... FOR UPDATE on the activity row, INSERT the RSVP (confirmed or
#          waitlisted), UPDATE the counters, one transaction; driven by pgbench -M prepared with a
#          custom script (one random 63-bit user per transaction);
#   redis  Redis 7, appendonly yes + appendfsync always, a Lua reserve script (EVALSHA), driven by
#          redis-benchmark (user id = two __rand_int__ placeholders, ~62 random bits);
#   nginx  1 worker, return 200 '{"ok":true}' (the HTTP ceiling), rsvpd-load --scenario static.
# Scenarios: spread (100 activities) and hot (1 activity), 1,000 seats each, party of 1, at each
# of --connections; then a scaling curve (--curve-scenario over --curve connection counts) plotted
# with gnuplot. After every run the invariants are checked: rsvpd-load's verification (no
# overbooking, FIFO, nothing lost); for pg and redis a query over their own data (confirmed seats
# = the sum of confirmed parties <= capacity, waitlist counters match, positions 1..n, every
# confirmed ticket precedes every waiting one, one row per request).
#
# Usage: benchmarks/compare/alternatives.sh [--pairs 2] [--duration 5] [--connections "64 1000"]
#          [--scenarios "spread hot"] [--systems "rsvpd pg redis nginx"]
#          [--curve "1 16 64 256 1000 4000"] [--curve-duration 3] [--curve-scenario hot]
#          [--curve-pairs 1] [--pg-curve-max 1000] [--out build/bench-alternatives.txt] [--replot]
# --replot only redraws the PNG from an earlier run's -curve.tsv (same --out). --self-check is the
# negative control of the pg and redis checks: it overbooks activity 1 after each of their runs,
# so every pg and redis row must then say FAILED.
# Writes FILE (report), FILE without .txt + .tsv (raw runs), .json (medians and ratios),
# -curve.tsv and -scaling.png. Env: BUILD_DIR, RSVPD_BIN, RSVPD_THREADS (default 1), LOAD_THREADS
# (rsvpd-load -t, pgbench -j, redis-benchmark --threads; default 1).
# Caveat printed with the figures: every client shares the machine's cores with the server.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$repo/build}
rsvpd_bin=${RSVPD_BIN:-$build/bin/rsvpd}
load="$build/bin/rsvpd-load"
load_threads=${LOAD_THREADS:-1}
rsvpd_threads=${RSVPD_THREADS:-1}
pairs=2
duration=5
connections="64 1000"
scenarios="spread hot"
systems="rsvpd pg redis nginx"
curve="1 16 64 256 1000 4000"
curve_duration=3
curve_scenario=hot
curve_pairs=1
# PostgreSQL forks a backend per connection: pgbench took ~60 s just to open 4,000 on this box,
# more than a curve point's whole budget, so its curve stops here (said in the report).
pg_curve_max=1000
replot=0
self_check=0
out="$build/bench-alternatives.txt"
readonly kPairsMax=10 kDurationMax=60 kCapacity=1000 kSpreadActivities=100
# Every client run is bounded: the measured time plus setup, drain and verification.
readonly kRunSlackS=120

while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --curve) curve=$2; shift 2 ;;
    --curve-duration) curve_duration=$2; shift 2 ;;
    --curve-scenario) curve_scenario=$2; shift 2 ;;
    --curve-pairs) curve_pairs=$2; shift 2 ;;
    --pg-curve-max) pg_curve_max=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --replot) replot=1; shift ;;
    --self-check) self_check=1; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "alternatives: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$pairs" -lt 2 ] || [ "$pairs" -gt "$kPairsMax" ]; then
  echo "alternatives: --pairs must be 2..$kPairsMax" >&2; exit 2
fi
for d in "$duration" "$curve_duration"; do
  if [ "$d" -lt 1 ] || [ "$d" -gt "$kDurationMax" ]; then
    echo "alternatives: durations must be 1..$kDurationMax seconds" >&2; exit 2
  fi
done
pg_bin=/usr/lib/postgresql/15/bin
for tool in nginx redis-server redis-cli redis-benchmark pgbench psql gnuplot curl python3 \
            "$pg_bin/initdb" "$pg_bin/pg_ctl"; do
  command -v "$tool" >/dev/null || { echo "alternatives: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
for bin in "$load" "$rsvpd_bin"; do
  [ -x "$bin" ] || { echo "alternatives: $bin missing: RSVPD_BUILD_JOBS=1 scripts/build.sh release --target rsvpd rsvpd-load" >&2; exit 2; }
done
mkdir -p "$(dirname "$out")"
base=${out%.txt}

# shellcheck source=benchmarks/compare/lib.sh
. "$repo/benchmarks/compare/lib.sh"
bench_init alternatives
chmod 711 "$tmp"   # the postgres user must reach its data dir below
pg_up=0
as_pg=()
bench_cleanup_hook() {
  if [ "$pg_up" = 1 ]; then "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
}

max_conns=0
for c in $connections $curve; do if [ "$c" -gt "$max_conns" ]; then max_conns=$c; fi; done

# ---------------------------------------------------------------- servers
start_rsvpd_or_exit() {
  start_rsvpd alternatives --threads "$rsvpd_threads" || { echo "alternatives: rsvpd did not start" >&2; exit 1; }
}

start_pg() {
  pg_port=$(free_port)
  mkdir -p "$tmp/pg/data" "$tmp/pg/sock"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$tmp/pg"   # postgres refuses to run as root
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/pg/data" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 \
    > "$tmp/pg/initdb.log" 2>&1 || { cat "$tmp/pg/initdb.log" >&2; exit 1; }
  cat >> "$tmp/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$tmp/pg/sock'
max_connections = $((max_conns + 10))
fsync = on
synchronous_commit = on
full_page_writes = on
CONF
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w -t 60 start > /dev/null \
    || { tail -20 "$tmp/pg/server.log" >&2; exit 1; }
  pg_up=1
  psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U bench -d postgres)
  "${psql_cmd[@]}" <<'SQL'
CREATE TABLE activities (
  id               int PRIMARY KEY,
  capacity         int NOT NULL,
  confirmed_seats  int NOT NULL DEFAULT 0,
  waitlisted_seats int NOT NULL DEFAULT 0,
  waitlist_length  int NOT NULL DEFAULT 0
);
CREATE TABLE rsvps (
  id                bigserial PRIMARY KEY,        -- the ticket: taken under the row lock
  activity_id       int NOT NULL REFERENCES activities,
  user_id           text NOT NULL,
  party_size        int NOT NULL,
  status            text NOT NULL CHECK (status IN ('confirmed', 'waitlisted')),
  waitlist_position int,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (activity_id, user_id)
);
-- The classic row-lock reserve: lock the activity, decide, insert, update the counters.
CREATE FUNCTION reserve(p_activity int, p_user text, p_party int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  a activities%ROWTYPE;
BEGIN
  SELECT * INTO a FROM activities WHERE id = p_activity FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'activity-not-found';
  END IF;
  IF EXISTS (SELECT 1 FROM rsvps WHERE activity_id = p_activity AND user_id = p_user) THEN
    RETURN 'already-rsvped';
  END IF;
  IF a.waitlist_length = 0 AND a.confirmed_seats + p_party <= a.capacity THEN
    INSERT INTO rsvps (activity_id, user_id, party_size, status)
      VALUES (p_activity, p_user, p_party, 'confirmed');
    UPDATE activities SET confirmed_seats = confirmed_seats + p_party WHERE id = p_activity;
    RETURN 'confirmed';
  END IF;
  INSERT INTO rsvps (activity_id, user_id, party_size, status, waitlist_position)
    VALUES (p_activity, p_user, p_party, 'waitlisted', a.waitlist_length + 1);
  UPDATE activities SET waitlisted_seats = waitlisted_seats + p_party,
                        waitlist_length = waitlist_length + 1 WHERE id = p_activity;
  RETURN 'waitlisted';
END $$;
SQL
  cat > "$tmp/pg/reserve.sql" <<'SQL'
\set aid random(1, :nact)
\set u random(1, 9223372036854775806)
SELECT reserve(:aid, CAST(:client_id AS text) || '.' || CAST(:u AS text), 1);
SQL
}

start_redis() {
  redis_port=$(free_port)
  mkdir -p "$tmp/redis"
  cat > "$tmp/redis/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
dir $tmp/redis
save ""
appendonly yes
appendfsync always
maxclients $((max_conns + 100))
logfile $tmp/redis/redis.log
CONF
  redis-server "$tmp/redis/redis.conf" &
  pids+=($!)
  local i
  for ((i = 0; i < kServerReadyPollsMax; i++)); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis_cli=(redis-cli -p "$redis_port")
  # ARGV[1] the user (random digits), ARGV[2] the number of activities, ARGV[3] the party size.
  # The activity is derived from the user's last digits, so its keys are built in the script
  # (fine on a standalone server; redis-benchmark cannot tie two placeholders together).
  cat > "$tmp/redis/reserve.lua" <<'LUA'
local aid = tonumber(string.sub(ARGV[1], -9)) % tonumber(ARGV[2]) + 1
local user, party = ARGV[1], tonumber(ARGV[3])
local a, r = 'a:' .. aid, 'r:' .. aid
local cap = redis.call('HGET', a, 'capacity')
if not cap then return redis.error_reply('activity-not-found') end
if redis.call('HSETNX', r, user, '') == 0 then
  redis.call('INCR', 'dups')
  return 'already-rsvped'
end
local st = redis.call('HMGET', a, 'confirmed_seats', 'waitlist_length')
local ticket = redis.call('HINCRBY', a, 'seq', 1)
if tonumber(st[2]) == 0 and tonumber(st[1]) + party <= tonumber(cap) then
  redis.call('HINCRBY', a, 'confirmed_seats', party)
  redis.call('HSET', r, user, 'c:' .. ticket .. ':' .. party)
  return 'confirmed'
end
local pos = redis.call('HINCRBY', a, 'waitlist_length', 1)
redis.call('HINCRBY', a, 'waitlisted_seats', party)
redis.call('RPUSH', 'w:' .. aid, user)
redis.call('HSET', r, user, 'w:' .. ticket .. ':' .. party .. ':' .. pos)
return 'waitlisted'
LUA
  # Returns {activities failing a check, rows, duplicates}.
  cat > "$tmp/redis/verify.lua" <<'LUA'
local n, bad, rows = tonumber(ARGV[1]), 0, 0
for aid = 1, n do
  local a = redis.call('HMGET', 'a:' .. aid, 'capacity', 'confirmed_seats', 'waitlisted_seats', 'waitlist_length')
  local cap, cs, ws, wl = tonumber(a[1]), tonumber(a[2]), tonumber(a[3]), tonumber(a[4])
  local all = redis.call('HGETALL', 'r:' .. aid)
  local c, w, wn, maxc, minw, seen, ok = 0, 0, 0, 0, math.huge, {}, true
  for i = 2, #all, 2 do
    rows = rows + 1
    local kind, t, p, pos = string.match(all[i], '^(%a):(%d+):(%d+):?(%d*)$')
    if not kind then ok = false
    elseif kind == 'c' then c = c + tonumber(p); maxc = math.max(maxc, tonumber(t))
    else
      w = w + tonumber(p); wn = wn + 1; minw = math.min(minw, tonumber(t))
      pos = tonumber(pos)
      if seen[pos] or pos < 1 then ok = false end
      seen[pos] = true
    end
  end
  if not (c == cs and cs <= cap and w == ws and wn == wl and maxc < minw
          and redis.call('LLEN', 'w:' .. aid) == wl) then ok = false end
  for pos = 1, wn do if not seen[pos] then ok = false end end
  if not ok then bad = bad + 1 end
end
return {bad, rows, tonumber(redis.call('GET', 'dups') or '0')}
LUA
  redis_sha=$("${redis_cli[@]}" SCRIPT LOAD "$(cat "$tmp/redis/reserve.lua")")
}

# ---------------------------------------------------------------- one measurement per system
# Each prints "req_per_s p50_ms p99_ms verify requests".
nact_of() { [ "$1" = hot ] && echo 1 || echo "$kSpreadActivities"; }

measure_rsvpd() {  # SCENARIO CONNS DURATION
  local json="$tmp/rsvpd.json" nact
  nact=$(nact_of "$1")
  rm -f "$json"
  timeout -s KILL $(($3 + kRunSlackS)) "$load" --target "127.0.0.1:$rsvpd_port" --scenario "$1" -c "$2" \
    -t "$load_threads" -d "$3" --warmup-s 1 --activities "$nact" --capacity "$kCapacity" \
    --secret-file "$tmp/rsvpd-data/jwt.secret" --json-out "$json" > "$tmp/rsvpd-load.txt" 2>&1 || true
  if [ ! -s "$json" ]; then
    echo "alternatives: rsvpd $1 at $2 connections failed:" >&2; tail -5 "$tmp/rsvpd-load.txt" >&2
    echo "0 0 0 FAILED 0"; return 0
  fi
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d.get("verify"); l=d["latency_ms"]
print(d["throughput_rps"], l["p50"], l["p99"], "-" if v is None else ("ok" if v["ok"] else "FAILED"), d.get("completed_in_window", 0))' "$json"
}

measure_nginx() {  # CONNS DURATION
  local json="$tmp/nginx.json"
  rm -f "$json"
  timeout -s KILL $(($2 + kRunSlackS)) "$load" --target "127.0.0.1:$nginx_port" --scenario static -c "$1" \
    -t "$load_threads" -d "$2" --warmup-s 1 --json-out "$json" > "$tmp/nginx-load.txt" 2>&1 || true
  if [ ! -s "$json" ]; then echo "0 0 0 FAILED 0"; return 0; fi
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=d["latency_ms"]
print(d["throughput_rps"], l["p50"], l["p99"], "-", d.get("completed_in_window", 0))' "$json"
}

measure_pg() {  # SCENARIO CONNS DURATION
  local nact logdir="$tmp/pg/log" verify
  nact=$(nact_of "$1")
  rm -rf "$logdir"; mkdir -p "$logdir"
  # Statements from stdin run one by one (VACUUM refuses a transaction block, as psql -c makes).
  "${psql_cmd[@]}" <<SQL
TRUNCATE rsvps, activities RESTART IDENTITY;
INSERT INTO activities (id, capacity) SELECT g, $kCapacity FROM generate_series(1, $nact) g;
VACUUM ANALYZE activities;
CHECKPOINT;
SQL
  # -j LOAD_THREADS client threads like rsvpd-load -t; -M prepared is PostgreSQL's fastest path.
  # pgbench's -T clock includes opening the connections (one backend process each, ~10 ms apiece
  # on this box: 10 s for 1,000), so -T allows for that, and throughput and latency are taken from
  # the per-transaction log over a window of DURATION seconds starting 1 s (the warmup, as for
  # rsvpd-load) after the first transaction ends, when every client is connected.
  local total_s=$(($3 + 2 + ($2 * 15 + 999) / 1000))
  (cd "$logdir" && timeout -s KILL $((total_s + kRunSlackS)) pgbench -n -h 127.0.0.1 -p "$pg_port" -U bench \
    -c "$2" -j "$load_threads" -T "$total_s" -M prepared -D nact="$nact" -f "$tmp/pg/reserve.sql" \
    -l --log-prefix=tx postgres > "$tmp/pgbench.txt" 2>&1) || true
  if [ "$self_check" = 1 ]; then  # the negative control: overbook activity 1 behind pgbench's back
    "${psql_cmd[@]}" -c "INSERT INTO rsvps (activity_id, user_id, party_size, status)
      VALUES (1, 'self-check', $((kCapacity + 1)), 'confirmed');
      UPDATE activities SET confirmed_seats = confirmed_seats + $((kCapacity + 1)) WHERE id = 1;"
  fi
  verify=$("${psql_cmd[@]}" -At <<'SQL'
WITH r AS (
  SELECT activity_id,
         coalesce(sum(party_size) FILTER (WHERE status = 'confirmed'), 0) AS cs,
         coalesce(sum(party_size) FILTER (WHERE status = 'waitlisted'), 0) AS ws,
         count(*) FILTER (WHERE status = 'waitlisted') AS wl,
         count(DISTINCT waitlist_position) AS wd,
         coalesce(max(waitlist_position), 0) AS wmax,
         coalesce(min(waitlist_position), 1) AS wmin,
         max(id) FILTER (WHERE status = 'confirmed') AS maxc,
         min(id) FILTER (WHERE status = 'waitlisted') AS minw
  FROM rsvps GROUP BY activity_id)
SELECT count(*) FILTER (WHERE NOT (coalesce(r.cs, 0) = a.confirmed_seats
                                   AND a.confirmed_seats <= a.capacity
                                   AND coalesce(r.ws, 0) = a.waitlisted_seats
                                   AND coalesce(r.wl, 0) = a.waitlist_length
                                   AND coalesce(r.wd, 0) = a.waitlist_length
                                   AND coalesce(r.wmax, 0) = a.waitlist_length
                                   AND coalesce(r.wmin, 1) = 1
                                   AND (r.maxc IS NULL OR r.minw IS NULL OR r.maxc < r.minw)))
       || ' ' || (SELECT count(*) FROM rsvps)
FROM activities a LEFT JOIN r ON r.activity_id = a.id;
SQL
)
  python3 - "$tmp/pgbench.txt" "$logdir" "$verify" "$3" <<'PY'
import glob, re, sys
text = open(sys.argv[1]).read()
n = re.search(r"number of transactions actually processed: (\d+)", text)
failed = re.search(r"number of failed transactions: (\d+)", text)
tx = []  # (end time s, latency ms); log fields: client tx latency_us script epoch_s us
for f in glob.glob(sys.argv[2] + "/tx*"):
    for line in open(f):
        p = line.split()
        if len(p) >= 6 and p[2].isdigit():
            tx.append((int(p[4]) + int(p[5]) / 1e6, int(p[2]) / 1000.0))
bad, rows = (int(x) for x in sys.argv[3].split())
duration = float(sys.argv[4])
if not n or not tx:
    sys.stderr.write("alternatives: pgbench failed:\n" + text[-600:])
    print(0, 0, 0, "FAILED", 0); sys.exit(0)
start = min(t for t, _ in tx) + 1.0
last = max(t for t, _ in tx)
end = min(start + duration, last)
lat = sorted(l for t, l in tx if start <= t < end)
if end - start < duration / 2 or not lat:
    sys.stderr.write(f"alternatives: pgbench window too short ({end - start:.1f} s)\n")
    print(0, 0, 0, "FAILED(window)", 0); sys.exit(0)
q = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))]
done = int(n.group(1))
ok = bad == 0 and rows == done and (not failed or failed.group(1) == "0")
print(len(lat) / (end - start), q(0.50), q(0.99), "ok" if ok else f"FAILED(bad={bad},rows={rows},tx={done})", len(lat))
PY
}

# redis-benchmark runs a request count (-n), not a duration: the rate measured last time for the
# same scenario and connections, or an unmeasured probe run first, sets -n so a run lasts ~DURATION.
declare -A redis_rate=()
redis_reset() {  # NACT
  local i
  "${redis_cli[@]}" FLUSHALL > /dev/null
  for ((i = 1; i <= $1; i++)); do echo "HSET a:$i capacity $kCapacity confirmed_seats 0 waitlisted_seats 0 waitlist_length 0 seq 0"; done \
    | "${redis_cli[@]}" > /dev/null
}
redis_bench() {  # CONNS REQUESTS NACT TIMEOUT_S
  timeout -s KILL "$4" redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$1" -n "$2" \
    --threads "$load_threads" -r 2147483647 --csv \
    EVALSHA "$redis_sha" 0 "__rand_int____rand_int__" "$3" 1 > "$tmp/redis-bench.txt" 2> "$tmp/redis-bench.err" || true
}
measure_redis() {  # SCENARIO CONNS DURATION
  local nact n rate key="$1-$2"
  nact=$(nact_of "$1")
  rate=${redis_rate[$key]:-}
  if [ -z "$rate" ]; then
    redis_reset "$nact"
    redis_bench "$2" $(($2 * 4 > 1000 ? $2 * 4 : 1000)) "$nact" "$kRunSlackS"
    rate=$(python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); print(float(r[1][1]) if len(r) > 1 else 1000)' "$tmp/redis-bench.txt")
  fi
  redis_reset "$nact"
  n=$(python3 -c "import sys; r,d,c=map(float,sys.argv[1:]); print(int(max(r*d, 4*c, 200)))" "$rate" "$3" "$2")
  redis_bench "$2" "$n" "$nact" $(($3 * 4 + kRunSlackS))
  local verify
  if [ "$self_check" = 1 ]; then  # the negative control: overbook activity 1 behind the script's back
    "${redis_cli[@]}" HSET r:1 self-check "c:999999999:$((kCapacity + 1))" > /dev/null
    "${redis_cli[@]}" HINCRBY a:1 confirmed_seats $((kCapacity + 1)) > /dev/null
  fi
  verify=$("${redis_cli[@]}" EVAL "$(cat "$tmp/redis/verify.lua")" 0 "$nact" | tr '\n' ' ')
  python3 - "$tmp/redis-bench.txt" "$n" "$verify" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
n = int(sys.argv[2]); bad, stored, dups = (int(x) for x in sys.argv[3].split())
if len(rows) < 2:
    print(0, 0, 0, "FAILED", 0); sys.exit(0)
h = dict(zip(rows[0], rows[1]))
ok = bad == 0 and stored + dups == n
print(float(h["rps"]), float(h["p50_latency_ms"]), float(h["p99_latency_ms"]),
      ("ok" if ok else f"FAILED(bad={bad},rows={stored},requests={n})") + ("" if dups == 0 else f"(dups={dups})"), n)
PY
}

run_one() {  # PHASE SYSTEM SCENARIO CONNS PAIR DURATION
  local res
  case "$2" in
    rsvpd) res=$(measure_rsvpd "$3" "$4" "$6") ;;
    pg) res=$(measure_pg "$3" "$4" "$6") ;;
    redis) res=$(measure_redis "$3" "$4" "$6")
           local rps=${res%% *}; [ "${rps%.*}" -gt 0 ] && redis_rate[$3-$4]=$rps ;;
    nginx) res=$(measure_nginx "$4" "$6") ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(echo "$res" | tr ' ' '\t')" | tee -a "$base.tsv"
}

# plot_curve: the scaling curve from $base-curve.tsv, throughput and p99 side by side (log-log).
plot_curve() {
  gnuplot <<GP || echo "alternatives: gnuplot failed; the curve is in $base-curve.tsv" >&2
set terminal pngcairo size 1200,520 noenhanced
set output "$base-scaling.png"
set multiplot layout 1,2 title "rsvpd vs alternatives, $curve_scenario activity (nginx: static 200), closed loop, one run on 2 shared cores"
set logscale xy
set grid
set xlabel "connections"
set datafile missing "NaN"
set key top left
set title "throughput (durable reserves / s)"
plot for [i=2:*:2] "$base-curve.tsv" using 1:i with linespoints lw 2 title columnhead(i)
set title "p99 latency (ms)"
set key top left
plot for [i=3:*:2] "$base-curve.tsv" using 1:i with linespoints lw 2 title columnhead(i)
unset multiplot
GP
}

# ---------------------------------------------------------------- the run
if [ "$replot" = 1 ]; then
  [ -s "$base-curve.tsv" ] || { echo "alternatives: no $base-curve.tsv to replot" >&2; exit 2; }
  plot_curve; echo "alternatives: redrew $base-scaling.png"; exit 0
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
has() { case " $systems " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has nginx && start_nginx $((max_conns + 100))
has rsvpd && start_rsvpd_or_exit
has pg && start_pg
has redis && start_redis
printf 'phase\tsystem\tscenario\tconns\tpair\treq_per_s\tp50_ms\tp99_ms\tverify\trequests\n' | tee "$base.tsv"
for ((pair = 1; pair <= pairs; pair++)); do
  for conns in $connections; do
    for scenario in $scenarios; do
      for system in $systems; do
        [ "$system" = nginx ] && continue
        run_one table "$system" "$scenario" "$conns" "$pair" "$duration"
      done
    done
    has nginx && run_one table nginx static "$conns" "$pair" "$duration"
  done
done
for ((pair = 1; pair <= curve_pairs; pair++)); do
  for conns in $curve; do
    for system in $systems; do
      if [ "$system" = pg ] && [ "$conns" -gt "$pg_curve_max" ]; then continue; fi
      if [ "$system" = nginx ]; then run_one curve nginx static "$conns" "$pair" "$curve_duration"
      else run_one curve "$system" "$curve_scenario" "$conns" "$pair" "$curve_duration"; fi
    done
  done
done

python3 - "$base.tsv" "$out" "$base.json" "$base-curve.tsv" "$started" "$pairs" "$duration" \
  "$curve_pairs" "$curve_duration" "$curve_scenario" "$load_threads" "$rsvpd_threads" "$pg_curve_max" <<'PY'
import json, statistics, subprocess, sys
(raw, out, jout, cout, started, pairs, duration, curve_pairs, curve_duration, curve_scenario,
 load_threads, rsvpd_threads, pg_curve_max) = sys.argv[1:14]
rows = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
med = {}
for phase, system, scenario, conns, pair, rps, p50, p99, verify, n in rows:
    med.setdefault((phase, system, scenario, int(conns)), []).append(
        (float(rps), float(p50), float(p99), verify))
def summary(runs):
    ok = [r for r in runs if r[0] > 0]
    if not ok:
        return None
    return {"req_per_s": statistics.median(r[0] for r in ok), "p50_ms": statistics.median(r[1] for r in ok),
            "p99_ms": statistics.median(r[2] for r in ok), "runs": len(runs),
            "verify": ",".join(sorted({r[3] for r in runs}))}
table = {k: summary(v) for k, v in med.items()}
L = []
L.append(f"alternatives  {started}  pairs={pairs} duration={duration}s (rsvpd and nginx: +1 s warmup) "
         f"load_threads={load_threads} rsvpd_threads={rsvpd_threads}")
L.append(f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, shared with "
         "other jobs; CAVEAT: every client shares these cores with the server, so only same-run ratios count")
L.append("clients: rsvpd and nginx rsvpd-load (HTTP/1.1 keep-alive); pg pgbench -M prepared (PL/pgSQL reserve());"
         " redis redis-benchmark EVALSHA. Closed loop: latency ~ connections / throughput.")
L.append("")
L.append(f"{'system':<7}{'scenario':<8}{'conns':>6}{'req/s':>11}{'p50 ms':>10}{'p99 ms':>10}  runs  verify")
for (phase, system, scenario, conns), s in sorted(table.items(), key=lambda kv: (kv[0][0] != "table", kv[0][3], kv[0][2], kv[0][1])):
    if phase != "table":
        continue
    if s is None:
        L.append(f"{system:<7}{scenario:<8}{conns:>6}{'failed':>11}"); continue
    L.append(f"{system:<7}{scenario:<8}{conns:>6}{s['req_per_s']:>11.0f}{s['p50_ms']:>10.2f}{s['p99_ms']:>10.2f}"
             f"  {s['runs']:>4}  {s['verify']}")
L.append("")
L.append("ratios of medians: throughput rsvpd / other (higher is better for rsvpd), p99 other / rsvpd")
ratios = []
for (phase, system, scenario, conns), s in sorted(table.items(), key=lambda kv: (kv[0][3], kv[0][2])):
    if phase != "table" or system != "rsvpd" or s is None:
        continue
    for other, oscen in (("pg", scenario), ("redis", scenario), ("nginx", "static")):
        o = table.get(("table", other, oscen, conns))
        if not o:
            continue
        r = {"scenario": scenario, "conns": conns, "other": other,
             "throughput_ratio": s["req_per_s"] / o["req_per_s"],
             "p99_ratio_other_over_rsvpd": (o["p99_ms"] / s["p99_ms"]) if s["p99_ms"] > 0 else None}
        ratios.append(r)
        p = r["p99_ratio_other_over_rsvpd"]
        L.append(f"  {scenario:<6} {conns:>5} conns  rsvpd/{other:<5} = {r['throughput_ratio']:8.2f}x"
                 f"   p99 {other}/rsvpd = {p:8.2f}x" if p is not None else "")
L.append("")
L.append("goals: >= 50x PostgreSQL on the hot activity with lower p99; >= 2x Redis (appendfsync always)")
for r in ratios:
    if r["other"] == "pg" and r["scenario"] == "hot":
        met = r["throughput_ratio"] >= 50 and (r["p99_ratio_other_over_rsvpd"] or 0) > 1
        L.append(f"  {'hot':<6} {r['conns']:>5} conns vs pg:    {r['throughput_ratio']:.1f}x, p99 {r['p99_ratio_other_over_rsvpd']:.1f}x lower -> {'MET' if met else 'NOT MET'}")
    if r["other"] == "redis":
        met = r["throughput_ratio"] >= 2
        L.append(f"  {r['scenario']:<6} {r['conns']:>5} conns vs redis: {r['throughput_ratio']:.2f}x -> {'MET' if met else 'NOT MET'}")
L.append("")
L.append(f"scaling curve: scenario {curve_scenario} (nginx: static), {curve_duration}s per point, {curve_pairs} pass(es), req/s (p99 ms); "
         f"pg stops at --pg-curve-max={pg_curve_max} connections (opening 4,000 backends alone takes ~60 s here)")
systems = sorted({k[1] for k in table if k[0] == "curve"}, key=["rsvpd", "pg", "redis", "nginx"].index)
cconns = sorted({k[3] for k in table if k[0] == "curve"})
L.append(f"{'conns':>6}" + "".join(f"{s:>22}" for s in systems))
with open(cout, "w") as f:
    f.write("conns\t" + "\t".join(f"{s}_rps\t{s}_p99_ms" for s in systems) + "\n")
    for c in cconns:
        cells, tsv = [], [str(c)]
        for s in systems:
            v = table.get(("curve", s, "static" if s == "nginx" else curve_scenario, c))
            missing = "skipped" if s == "pg" and c > int(pg_curve_max) else "failed"
            cells.append(f"{v['req_per_s']:>10.0f} ({v['p99_ms']:>8.1f})" if v else f"{missing:>21}")
            tsv += [f"{v['req_per_s']:.1f}", f"{v['p99_ms']:.3f}"] if v else ["NaN", "NaN"]
        L.append(f"{c:>6}" + "".join(f"{x:>22}" for x in cells))
        f.write("\t".join(tsv) + "\n")
L.append("")
L.append("raw runs (phase system scenario conns pair req/s p50_ms p99_ms verify requests):")
L += ["  " + "  ".join(r) for r in rows]
text = "\n".join(L) + "\n"
open(out, "w").write(text)
json.dump({"started": started, "pairs": int(pairs), "duration_s": int(duration),
           "medians": [dict(phase=k[0], system=k[1], scenario=k[2], conns=k[3], **v)
                       for k, v in table.items() if v],
           "ratios": ratios, "raw": raw}, open(jout, "w"), indent=1)
print(text, end="")
PY

plot_curve
echo "alternatives: results written to $out ($base.tsv, $base.json, $base-curve.tsv, $base-scaling.png)"
