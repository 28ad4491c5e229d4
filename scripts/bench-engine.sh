#!/usr/bin/env bash
# Durable RSVP throughput of the engine against raw LMDB (sequential keys in one tree, and the
# engine's own key layout over seven trees), run
# alternately in one invocation (A B A B ..., BENCHMARKS.md), printing medians and ratios and
# writing them to build/bench-engine.txt. Usage: scripts/bench-engine.sh [pairs (default 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-2}"
./scripts/build.sh release --target engine_bench store_bench > /dev/null
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
for pair in $(seq 1 "$pairs"); do
  ./build/bin/store_bench --benchmark_filter='BM_RawLmdbCommit/(256|4096)|BM_RawLmdbEngineKeys/(256|4096)|BM_StoreCommit/4096' \
    --benchmark_format=json > "$out_dir/raw-$pair.json"
  ./build/bin/engine_bench --benchmark_filter='/(256|4096)/' --benchmark_format=json \
    > "$out_dir/engine-$pair.json"
done
python3 - "$out_dir" "$pairs" <<'PY' | tee build/bench-engine.txt
import json, statistics, sys
out_dir, pairs = sys.argv[1], int(sys.argv[2])
rates = {}
for kind in ("raw", "engine"):
    for pair in range(1, pairs + 1):
        for bench in json.load(open(f"{out_dir}/{kind}-{pair}.json"))["benchmarks"]:
            rates.setdefault(bench["name"], []).append(bench["items_per_second"])
median = {name: statistics.median(values) for name, values in rates.items()}
print(f"{'benchmark':45} {'median RSVPs/s':>15}  (runs)")
for name, value in sorted(median.items()):
    print(f"{name:45} {value:15,.0f}  ({len(rates[name])})")
raw = median["BM_RawLmdbCommit/4096/real_time"]
for name in ("BM_EngineRsvps/4096/real_time", "BM_EngineRsvpsHot/4096/real_time",
             "BM_StoreCommit/4096/real_time"):
    print(f"ratio {name} / raw LMDB 4096 puts-per-txn: {median[name] / raw:.2f}")
same = median["BM_RawLmdbEngineKeys/4096/real_time"]
for name in ("BM_EngineRsvps/4096/real_time", "BM_EngineRsvpsHot/4096/real_time"):
    print(f"ratio {name} / raw LMDB with the engine's keys, 4096 RSVPs per txn: "
          f"{median[name] / same:.2f}")
PY
