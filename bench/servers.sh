#!/usr/bin/env bash
# Macro benchmark: Postfix's smtp-source drives three SMTP sinks side by side, in one run, on
# 127.0.0.1: Postfix's smtp-sink (the reference), `smtpbench serve` (this project's reference
# server), and Node's smtp-server library. For each sink and workload it reports wall time,
# msg/s, rcpt/s and the sink's CPU time per message (from /proc/PID/stat, utime + stime).
#
#   bench/servers.sh                 # after `npm run build`; needs smtp-source and smtp-sink (Debian: postfix)
#   REPEAT=5 bench/servers.sh        # runs per cell (default 3); the median wall time is reported
#
# Workloads (the issue's targets): 20 sessions × 20000 messages of 1 KiB, one recipient, kept
# connections (-d); and 200 messages × 1000 recipients. Figures mean nothing without the
# environment line, which is printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
command -v smtp-source > /dev/null && command -v smtp-sink > /dev/null || { echo "needs smtp-source and smtp-sink (apt-get install postfix)" >&2; exit 2; }
[[ -f dist/cli/main.js ]] || npm run build > /dev/null

echo "node $(node --version) · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') × $(nproc) · $(uname -sr) · git $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty') · $(date -u +%FT%TZ)"
TCK=$(getconf CLK_TCK)

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

PID=
start_sink() { # name port
  case $1 in
    smtp-sink) smtp-sink -u nobody "127.0.0.1:$2" 1000 & PID=$! ;;
    smtpbench) node dist/cli/main.js serve --port "$2" --quiet > /dev/null & PID=$! ;;
    smtp-server) node bench/smtp-server-sink.mjs "$2" > /dev/null & PID=$! ;;
  esac
  wait_port "$2"
}
stop_sink() { kill "$PID" 2> /dev/null || true; wait "$PID" 2> /dev/null || true; }
trap stop_sink EXIT

printf '\n%-12s %-32s %8s %10s %8s %10s %10s %12s\n' sink workload messages recipients 'wall s' 'msg/s' 'rcpt/s' 'CPU µs/msg'
run() { # sink label messages recipients-per-message smtp-source-args...
  local sink=$1 label=$2 msgs=$3 rcpts=$4; shift 4
  local port walls=() cpus=()
  port=$(free_port)
  start_sink "$sink" "$port"
  for _ in $(seq "$REPEAT"); do
    local c0 t0 t1 c1
    c0=$(cpu_ticks "$PID"); t0=$(date +%s.%N)
    smtp-source "$@" "127.0.0.1:$port"
    t1=$(date +%s.%N); c1=$(cpu_ticks "$PID")
    walls+=("$(echo "$t1 - $t0" | bc -l)")
    cpus+=("$(echo "($c1 - $c0) / $TCK * 1000000 / $msgs" | bc -l)")
  done
  stop_sink
  local wall cpu
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(( (REPEAT + 1) / 2 ))p")
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "$(( (REPEAT + 1) / 2 ))p")
  printf '%-12s %-32s %8d %10d %8.3f %10.0f %10.0f %12.1f\n' "$sink" "$label" "$msgs" $((msgs * rcpts)) "$wall" \
    "$(echo "$msgs / $wall" | bc -l)" "$(echo "$msgs * $rcpts / $wall" | bc -l)" "$cpu"
}

for sink in smtp-sink smtpbench smtp-server; do
  run "$sink" '-s 20 -d -m 20000 -l 1024' 20000 1 -s 20 -d -m 20000 -l 1024
  run "$sink" '-s 20 -d -m 200 -r 1000 -l 1024' 200 1000 -s 20 -d -m 200 -r 1000 -l 1024
done
echo
echo "CPU µs/msg: the sink process's user+system CPU (median run) divided by messages; /proc ticks are $((1000000 / TCK)) µs."
