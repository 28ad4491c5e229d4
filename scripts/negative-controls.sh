#!/usr/bin/env bash
# Negative controls (DESIGN.md §1): in the fault-injection build, each named failpoint switches
# one guard off, and the test named beside it must then FAIL; the same test must PASS with no
# fault. A control whose test still passes proves nothing, and fails this script.
# The table is tests/negative_controls.tsv: fault <TAB> test binary <TAB> gtest filter.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build-faults}"
table=tests/negative_controls.tsv
failures=0
checked=0
while IFS=$'\t' read -r fault binary filter; do
  [[ -z "$fault" || "$fault" == \#* ]] && continue
  program="$build_dir/bin/$binary"
  if [[ ! -x "$program" ]]; then
    echo "negative-controls: missing $program" >&2
    failures=$((failures + 1))
    continue
  fi
  if ! RSVPD_FAULT= timeout 600 "$program" --gtest_filter="$filter" > /tmp/rsvpd-control.log 2>&1; then
    echo "FAIL  $fault: $binary $filter fails even without the fault" >&2
    tail -20 /tmp/rsvpd-control.log >&2
    failures=$((failures + 1))
  elif RSVPD_FAULT="$fault" timeout 600 "$program" --gtest_filter="$filter" > /tmp/rsvpd-control.log 2>&1; then
    echo "FAIL  $fault: $binary $filter still passes with the guard off" >&2
    failures=$((failures + 1))
  else
    echo "ok    $fault: caught by $binary $filter"
  fi
  checked=$((checked + 1))
done < "$table"
echo "negative controls: $((checked - failures)) passed, $failures failed"
[[ "$failures" -eq 0 ]]
