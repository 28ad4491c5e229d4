#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release) with at most two jobs, the size of
# the machines this project runs on. Usage: scripts/build.sh [preset] [extra cmake --build args]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${RSVPD_BUILD_JOBS:-2}"
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset" -j "$jobs" "$@"
