#!/usr/bin/env bash
# selftest.sh — checks rsvpd-load against mock_api.py without the daemon: every scenario
# verifies OK on the honest mock, and each broken mock (overbook, lose, gap, reorder) fails verification
# (negative controls); --activity-id books an existing activity that someone else booked too (that
# foreign RSVP is expected, not a failure) and refuses a missing one. Loopback only; every run is 1 s. Usage: benchmarks/loadgen/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
load=${BUILD_DIR:-$here/../../build}/bin/rsvpd-load
[ -x "$load" ] || { echo "selftest: $load missing" >&2; exit 2; }
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_mock() {  # start_mock FAULT: sets port
  port=$(free_port)
  python3 "$here/mock_api.py" "$port" --fault "$1" --seconds 60 & pids+=($!)
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && return 0; sleep 0.1; done
  echo "selftest: mock did not start" >&2; exit 1
}
run() {  # run SCENARIO: rsvpd-load's exit status
  "$load" --target "127.0.0.1:$port" --scenario "$1" -c 8 -d 1 --warmup-s 0 --activities 3 \
    --capacity 10 --token unused > /dev/null && return 0 || return $?
}
failures=0
start_mock none
for scenario in spread hot mixed capacity-read; do
  if run "$scenario"; then echo "ok    $scenario verifies on the honest mock"
  else echo "FAIL  $scenario did not verify on the honest mock"; failures=$((failures + 1)); fi
done
# A shared activity: created and booked by someone else before the run, as compare/sse_fanout.sh does.
api="http://127.0.0.1:$port/api/v1"
curl -sf -o /dev/null -X POST "$api/activities" -d '{"id":"shared-a","capacity":10,"max_guests":0,"waitlist":true}'
curl -sf -o /dev/null -X POST "$api/rsvps" -d '{"activity_id":"shared-a","user_id":"someone-else"}'
status=0
"$load" --target "127.0.0.1:$port" --scenario hot --activity-id shared-a -c 8 -d 1 --warmup-s 0 \
  --token unused > /dev/null || status=$?
if [ "$status" = 0 ]; then echo "ok    hot --activity-id verifies on a shared activity"
else echo "FAIL  hot --activity-id on a shared activity (exit $status)"; failures=$((failures + 1)); fi
status=0
"$load" --target "127.0.0.1:$port" --scenario hot --activity-id no-such-activity -c 8 -d 1 \
  --warmup-s 0 --token unused > /dev/null 2>&1 || status=$?
if [ "$status" = 2 ]; then echo "ok    hot --activity-id refuses a missing activity"
else echo "FAIL  hot --activity-id on a missing activity (exit $status)"; failures=$((failures + 1)); fi
for fault in overbook lose gap reorder; do
  start_mock "$fault"
  status=0; run spread || status=$?
  if [ "$status" = 1 ]; then echo "ok    verification catches '$fault'"
  else echo "FAIL  verification missed '$fault' (exit $status)"; failures=$((failures + 1)); fi
done
exit $(( failures > 0 ))
