#!/usr/bin/env bash
# Installs every Debian 12 package rsvpd needs to build, test and run, when missing.
# Idempotent; must run as root (or with sudo available). Later issues append packages here.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config git ca-certificates curl
  libboost1.81-dev libboost-program-options1.81-dev
  liburing-dev liblmdb-dev lmdb-utils picojson-dev libjwt-dev libssl-dev libsystemd-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 systemd
  nginx wrk
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
