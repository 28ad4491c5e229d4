#!/usr/bin/env bash
# Fuzzing (docs/TESTING.md, "Fuzzing"): builds the `fuzz` preset (clang-14, libFuzzer,
# ASan+UBSan) and runs every target of tests/fuzz for the given seconds (default 60) on a COPY of
# its seed corpus, tests/fuzz/corpus/<target>/, so the repository's corpus never grows. Prints
# each target's executions per second and coverage; exits non-zero when any target crashed,
# leaked, timed out or broke one of its properties, naming the saved input and how to replay it.
# Usage: scripts/fuzz.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
  exit 2
fi

started=$SECONDS
./scripts/build.sh fuzz
echo "fuzz: build done in $((SECONDS - started))s"

targets=(http_request json_body jwt)
run_dir=build-fuzz/fuzz-run  # Corpus copies, logs and crash inputs; never in the repository.
rm -rf "$run_dir"
failures=0
for target in "${targets[@]}"; do
  work="$run_dir/$target"
  mkdir -p "$work/artifacts"
  cp -r "tests/fuzz/corpus/$target" "$work/corpus"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$work/artifacts/")
  if [[ -f "tests/fuzz/$target.dict" ]]; then
    options+=(-dict="tests/fuzz/$target.dict")
  fi
  target_started=$SECONDS
  status=0
  "build-fuzz/bin/fuzz_$target" "${options[@]}" "$work/corpus" > "$work/fuzz.log" 2>&1 || status=$?
  # "#123 DONE cov: 3705 ft: 8549 corp: 19/10Kb ..." (or the last status line if it died).
  last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$work/fuzz.log" | tail -1 ||
    true)
  coverage=$(sed -nE \
    's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/.*/edges \1, features \2, corpus \3/p' <<< "$last")
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/fuzz.log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$work/fuzz.log")
  echo "fuzz_$target: ${runs:-?} runs in $((SECONDS - target_started))s, ${rate:-?} exec/s," \
    "${coverage:-no coverage line}"
  if [[ "$status" -ne 0 ]]; then
    failures=$((failures + 1))
    echo "FAIL  fuzz_$target exited $status; log: $work/fuzz.log" >&2
    # What broke: a property (fuzz_check.h), a sanitizer report with its first frames, an
    # assert(), or libFuzzer's summary (deadly signal, timeout, out of memory).
    grep -E -A6 'FUZZ PROPERTY FAILED|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
      "$work/fuzz.log" | grep -v -E '^==[0-9]+== ERROR: libFuzzer|in fuzzer::|__sanitizer_print' |
      head -30 >&2 || true
    grep -E 'Assertion .* failed|^SUMMARY: ' "$work/fuzz.log" | head -5 >&2 || true
    for input in "$work"/artifacts/*; do
      [[ -e "$input" ]] || continue
      echo "      input: $input" >&2
      echo "      replay: build-fuzz/bin/fuzz_$target $input" >&2
    done
  fi
done
echo "fuzz: $(( ${#targets[@]} - failures )) of ${#targets[@]} targets clean," \
  "${seconds}s each; total $((SECONDS - started))s"
[[ "$failures" -eq 0 ]]
