# lib.sh — what the comparison scripts share; source it, do not run it.
#
# A temp dir and the cleanup of every process started into it, free loopback ports, readiness
# polls, nginx as the HTTP ceiling (one worker, `return 200`), rsvpd on a temp data dir, and CPU
# accounting from /proc. Callers set `rsvpd_bin` before start_rsvpd.

readonly kServerReadyPollsMax=100  # 0.1 s apart: a server gets 10 s to answer its first request.

# bench_init NAME: raises the open-files limit, makes the temp dir `$tmp` and the list `pids`, and
# at exit stops every pid in it and removes `$tmp`. A script that starts something stopped
# another way defines bench_cleanup_hook (run first).
bench_init() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  tmp=$(mktemp -d "/tmp/rsvpd-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  if declare -F bench_cleanup_hook >/dev/null; then bench_cleanup_hook || true; fi
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}

# free_port: a loopback TCP port nobody listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready URL: polls until URL answers 2xx, at most kServerReadyPollsMax times.
wait_ready() {
  local i
  for ((i = 0; i < kServerReadyPollsMax; i++)); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

# start_nginx WORKER_CONNECTIONS: nginx with one worker answering `{"ok":true}` on every path;
# sets nginx_port and nginx_pid; exits the script if nginx does not come up.
start_nginx() {
  nginx_port=$(free_port)
  mkdir -p "$tmp/nginx"
  cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections $1; }
http {
  access_log off;
  # nginx closes a keep-alive connection after 1,000 requests by default; the clients would
  # then measure reconnects, so keep connections open like rsvpd does.
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/body;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
CONF
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  wait_ready "http://127.0.0.1:$nginx_port/" || { echo "nginx did not start:" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }
}

# start_rsvpd NAME [FLAGS...]: $rsvpd_bin on loopback with its data in $tmp/rsvpd-data and the
# segment rsvpd-NAME-<pid>, plus FLAGS; sets rsvpd_port and rsvpd_pid. Returns 1, with the tail
# of its log on stderr, when it is not ready (and its secret written) within the poll budget.
start_rsvpd() {
  local name=$1
  shift
  rsvpd_port=$(free_port)
  mkdir -p "$tmp/rsvpd-data"
  "$rsvpd_bin" --data-dir "$tmp/rsvpd-data" --listen "127.0.0.1:$rsvpd_port" \
    --shm-name "rsvpd-$name-$$" --log-level warn "$@" > "$tmp/rsvpd.log" 2>&1 &
  rsvpd_pid=$!
  pids+=("$rsvpd_pid")
  if wait_ready "http://127.0.0.1:$rsvpd_port/readyz" && [ -s "$tmp/rsvpd-data/jwt.secret" ]; then
    return 0
  fi
  echo "rsvpd did not become ready. Its log:" >&2
  tail -20 "$tmp/rsvpd.log" >&2 || true
  return 1
}

# cpu_ticks PID: CPU clock ticks (user+system) used so far by PID and its children (nginx's
# worker); divide by `getconf CLK_TCK` for seconds.
cpu_ticks() {
  python3 -c '
import os, sys
root, total = sys.argv[1], 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()  # From the state field on (comm may hold spaces).
    if pid == root or fields[1] == root:
        total += int(fields[11]) + int(fields[12])
print(total)' "$1"
}
