#!/usr/bin/env bash
# The README's run command: installs what is missing, builds the release preset and starts
# rsvpd in the foreground on its defaults (data in ./rsvpd-data, 127.0.0.1:8080).
# Extra arguments go to rsvpd (see `build/bin/rsvpd --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release
exec ./build/bin/rsvpd "$@"
