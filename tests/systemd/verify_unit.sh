#!/usr/bin/env bash
# Checks systemd/rsvpd.service with `systemd-analyze verify`. Any output counts as a failure:
# systemd-analyze exits 0 on unknown keys and only warns. The real ExecStart binary
# (/usr/local/bin/rsvpd) is not installed in CI, so it is checked to be an absolute path and then
# replaced by a stub for the verification. Exit 77 (ctest SKIP) when systemd-analyze is missing.
set -uo pipefail

unit="$1"
sysusers="$2"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not installed (scripts/install-deps.sh installs systemd)"
  exit 77
fi

exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
if [[ "$exec_start" != /usr/local/bin/rsvpd ]]; then
  echo "FAIL: ExecStart must be /usr/local/bin/rsvpd, is '$exec_start'"
  exit 1
fi
for required in 'Type=notify' 'WatchdogSec=' 'StateDirectory=rsvpd' 'LimitNOFILE=1048576' \
                'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' 'User=rsvpd'; do
  grep -qF "$required" "$unit" || { echo "FAIL: $unit lacks '$required'"; exit 1; }
done
# Options that would hide /dev/shm/rsvpd from co-located readers must stay off.
for forbidden in 'PrivateDevices=yes' 'PrivateTmp=yes' 'ProtectSystem=strict' 'DynamicUser=yes' \
                 'RemoveIPC=yes'; do
  if grep -qF "$forbidden" "$unit"; then echo "FAIL: $unit sets $forbidden"; exit 1; fi
done
grep -q '^u rsvpd ' "$sysusers" || { echo "FAIL: $sysusers does not create user rsvpd"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' > "$work/rsvpd"
chmod +x "$work/rsvpd"
sed "s|^ExecStart=/usr/local/bin/rsvpd|ExecStart=$work/rsvpd|" "$unit" > "$work/rsvpd.service"

output=$(systemd-analyze verify --man=no "$work/rsvpd.service" 2>&1)
status=$?
if [[ $status -ne 0 && "$output" == *"Failed to"*"bus"* ]]; then
  echo "SKIP: systemd-analyze cannot run in this container: $output"
  exit 77
fi
if [[ $status -ne 0 || -n "$output" ]]; then
  echo "FAIL: systemd-analyze verify (exit $status):"
  echo "$output"
  exit 1
fi
echo "OK: $unit verifies cleanly"
