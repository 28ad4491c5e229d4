#!/usr/bin/env bash
# sse_selftest.sh — rsvpd-sse-bench's checks, not its timings (a ctest of label `binary`):
#   1. against the real daemon, 50 subscribers while rsvpd-load books the same activity: it exits
#      0 (no id violation), no stream is dropped, and every resolved probe is accounted for at
#      every subscriber (measured, or refused as ring-overflow; never left unresolved); then
#      `rsvpctl verify` checks the store (the load's own verification would race the probes,
#      which keep booking the activity while it reads the counts and the listing);
#   2. negative control: against a stand-in server whose stream repeats and lowers ids, it counts
#      the violations and exits 1.
# Loopback only; temp dirs; about 10 s. Usage: benchmarks/loadgen/sse_selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BUILD_DIR:-$here/../../build}/bin
for program in rsvpd rsvpd-load rsvpd-sse-bench rsvpctl; do
  [ -x "$bin/$program" ] || { echo "sse_selftest: $bin/$program missing" >&2; exit 2; }
done
readonly kSubscribers=50 kReadyPollsMax=100
tmp=$(mktemp -d /tmp/rsvpd-sse-selftest.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
failures=0

# 1. The real daemon.
port=$(free_port)
"$bin/rsvpd" --data-dir "$tmp/data" --listen "127.0.0.1:$port" --shm-name "rsvpd-sse-selftest-$$" \
  --log-level warn 2> "$tmp/rsvpd.log" &
pids+=($!)
for ((i = 0; i < kReadyPollsMax; i++)); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
  sleep 0.1
done
admin=$("$bin/rsvpctl" token issue --data-dir "$tmp/data" --user selftest --role admin --ttl 1h)
curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/activities" \
  -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"id":"watched","capacity":100000,"waitlist":true}'
status=0
"$bin/rsvpd-sse-bench" --target "127.0.0.1:$port" --activity watched --subscribers "$kSubscribers" \
  --probe-delay-s 0.5 --probe-duration-s 2 --secret-file "$tmp/data/jwt.secret" \
  --ready-file "$tmp/ready" --json-out "$tmp/sse.json" > "$tmp/sse.txt" 2>&1 &
bench=$!
pids+=("$bench")
for ((i = 0; i < kReadyPollsMax * 3; i++)); do
  [ ! -e "$tmp/ready" ] && kill -0 "$bench" 2>/dev/null || break
  sleep 0.1
done
"$bin/rsvpd-load" --target "127.0.0.1:$port" --scenario hot --activity-id watched -c 16 -d 2 \
  --warmup-s 0 --no-verify --secret-file "$tmp/data/jwt.secret" > "$tmp/load.txt" 2>&1 || status=$?
wait "$bench" || status=$?
"$bin/rsvpctl" verify --data-dir "$tmp/data" --shm-name "rsvpd-sse-selftest-$$" > "$tmp/verify.txt" 2>&1 \
  || { echo "FAIL  rsvpctl verify"; cat "$tmp/verify.txt"; failures=$((failures + 1)); }
if [ "$status" = 0 ] && python3 - "$tmp/sse.json" "$kSubscribers" <<'PY'
import json, sys
d, n = json.load(open(sys.argv[1])), int(sys.argv[2])
p = d["pairs"]
ok = (d["dropped"] == 0 and d["protocol_errors"] == 0 and d["id_violations"] == 0
      and d["probes"]["resolved"] > 0 and p["unresolved"] == 0
      and p["measured"] + p["ring_overflow"] == d["probes"]["resolved"] * n
      and d["events_per_subscriber_min"] >= 2)
sys.exit(0 if ok else 1)
PY
then
  echo "ok    $kSubscribers subscribers follow a booked activity: every probe seen by every subscriber"
else
  echo "FAIL  against rsvpd (status $status)"; cat "$tmp/sse.txt" "$tmp/load.txt"; failures=$((failures + 1))
fi

# 2. Negative control: ids 5, 6, 6, 4 on every stream (two violations each).
mock_port=$(free_port)
python3 - "$mock_port" <<'PY' &
import http.server, socketserver, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_GET(self):
        if not self.path.endswith("/events"):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.end_headers()
        for seq in (5, 6, 6, 4):
            self.wfile.write(b"id: %d\nevent: capacity\ndata: {\"confirmed_seats\": %d}\n\n" % (seq, seq))
            self.wfile.flush()
            time.sleep(0.05)
        time.sleep(5)  # Holds the stream open past the bench's end.
    def do_POST(self):  # The probe's RSVP: refused, so no delay is measured.
        self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers()
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
pids+=($!)
for ((i = 0; i < kReadyPollsMax; i++)); do
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$mock_port" 2>/dev/null && break
  sleep 0.1
done
status=0
"$bin/rsvpd-sse-bench" --target "127.0.0.1:$mock_port" --activity broken --subscribers 5 \
  --probe-duration-s 1 --token unused --json-out "$tmp/broken.json" > "$tmp/broken.txt" 2>&1 || status=$?
if [ "$status" = 1 ] && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["id_violations"] != 10)' "$tmp/broken.json"; then
  echo "ok    repeated and lowered ids are counted as violations (exit 1)"
else
  echo "FAIL  negative control (status $status)"; cat "$tmp/broken.txt"; failures=$((failures + 1))
fi
exit $(( failures > 0 ))
