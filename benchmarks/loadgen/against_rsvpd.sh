#!/usr/bin/env bash
# against_rsvpd.sh — the load driver's end-of-run verification against the real daemon: starts
# build/bin/rsvpd on a free port and a temp data dir, runs each scenario briefly with 64
# connections, and fails when any run's invariant check (overbooking, positions, lost RSVPs,
# FIFO per connection, the overbooking metric) fails, or when `rsvpctl verify` then finds
# anything in the store. A ctest of label `binary`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BUILD_DIR:-$here/../../build}/bin
data=$(mktemp -d /tmp/rsvpd-loadgen-XXXXXX)
shm="rsvpd-loadgen-$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/rsvpd" --data-dir "$data/data" --listen "127.0.0.1:$port" --shm-name "$shm" \
  --log-level warn 2> "$data/rsvpd.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
failures=0
for scenario in spread hot mixed; do
  if "$bin/rsvpd-load" --target "127.0.0.1:$port" --scenario "$scenario" -c 64 -d 2 \
       --warmup-s 0 --capacity 50 --secret-file "$data/data/jwt.secret" > "$data/$scenario.txt"; then
    echo "ok    $scenario: $(grep -o 'verify .*' "$data/$scenario.txt" | cut -c1-120)"
  else
    echo "FAIL  $scenario"; cat "$data/$scenario.txt"; failures=$((failures + 1))
  fi
done
# Every invariant of DESIGN.md §1 on the store the runs left, beside the running daemon.
if "$bin/rsvpctl" verify --data-dir "$data/data" --shm-name "$shm" > "$data/verify.txt"; then
  echo "ok    rsvpctl verify: clean"
else
  echo "FAIL  rsvpctl verify"; cat "$data/verify.txt"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
