#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the release preset and runs every
# test suite (ctest). Extra arguments go to ctest (e.g. -L core).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release
ctest --test-dir build --output-on-failure --timeout 900 -j 2 "$@"
