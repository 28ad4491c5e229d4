#!/usr/bin/env bash
# Lints docs/openapi.yaml with the pinned @redocly/cli that scripts/install-deps.sh installs
# (ctest runs this as http_openapi_lint). Exits non-zero on any lint error, and when the linter
# is missing: an unchecked document must not pass for a checked one.
# RSVPD_TOOLS_DIR: where install-deps.sh put the npm tools (default /opt/rsvpd-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
redocly="${RSVPD_TOOLS_DIR:-/opt/rsvpd-tools}/node_modules/.bin/redocly"
if [ ! -x "$redocly" ]; then
  echo "lint-openapi: $redocly is missing; run scripts/install-deps.sh" >&2
  exit 1
fi
# No usage telemetry and no update check: the result must depend on the document only.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$redocly" --version
exec "$redocly" lint --config docs/redocly.yaml docs/openapi.yaml
