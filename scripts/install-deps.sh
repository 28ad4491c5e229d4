#!/usr/bin/env bash
# Installs every Debian 12 package rsvpd needs to build, test and run, when missing, and the npm
# tools the tests use (the OpenAPI linter). Idempotent; must run as root (or with sudo available).
# Later issues append packages here.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config git ca-certificates curl
  libboost1.81-dev libboost-program-options1.81-dev
  liburing-dev liblmdb-dev lmdb-utils picojson-dev libjwt-dev libssl-dev libsystemd-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 systemd
  nginx wrk
  chromium
  postgresql redis-server redis-tools gnuplot-nox
  clang clang-14 libclang-rt-14-dev
)

# npm tools live outside the repository and the build directory, so that neither `git status`
# nor deleting build/ touches them. The CMake cache variable RSVPD_TOOLS_DIR (tests/http) must
# name the same directory; both default to /opt/rsvpd-tools.
tools_dir="${RSVPD_TOOLS_DIR:-/opt/rsvpd-tools}"
# Pinned exactly: a linter's rules change between releases, and the tests must not start failing
# on their own. 1.34.x is the newest line that still runs on Debian 12's nodejs 18 (2.x needs
# node 20.19+); 1.34.20 rather than 1.34.21 because the latter's @redocly/respect-core@1.34.21
# could not be resolved from the registry (ETARGET) when this was pinned.
redocly_version="1.34.20"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
# Only when there is no npm at all: a machine with Node.js from elsewhere (e.g. NodeSource, whose
# nodejs package bundles npm and conflicts with Debian's) keeps what it has.
if ! command -v npm > /dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${#missing[@]}" -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

installed_redocly="$(node -p "require('$tools_dir/node_modules/@redocly/cli/package.json').version" \
  2> /dev/null || true)"
if [ "$installed_redocly" != "$redocly_version" ]; then
  echo "install-deps: installing @redocly/cli@$redocly_version into $tools_dir" >&2
  "${sudo_cmd[@]}" mkdir -p "$tools_dir"
  "${sudo_cmd[@]}" npm install --prefix "$tools_dir" --save-exact --no-audit --no-fund \
    --loglevel=error "@redocly/cli@$redocly_version"
fi
