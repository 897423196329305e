#!/usr/bin/env bash
# Macro benchmark: Postfix's smtp-source drives three SMTP sinks side by side, in one run, on
# 127.0.0.1: Postfix's smtp-sink (the reference), `smtpbench serve` (this project's reference
# server), and Node's smtp-server library. For each sink and workload it reports wall time,
# msg/s, rcpt/s, the sink's CPU time per message (from /proc/PID/stat, utime + stime), and the
# ratio of its rate to smtp-sink's.
#
#   bench/servers.sh                 # after `npm run build`; needs smtp-source and smtp-sink (Debian: postfix)
#   REPEAT=9 bench/servers.sh        # rounds per workload (default 5)
#
# Workloads (the issue's targets): 20 sessions × 20000 messages of 1 KiB, one recipient, kept
# connections (-d); and 200 messages × 1000 recipients (smtp-source sends each RCPT only after
# the previous reply, so this one is bound by the cost of a round trip).
#
# The machines this runs on are shared and noisy, so the three sinks run at once (an idle sink
# costs nothing) and take turns: round r runs smtp-sink, smtpbench, smtp-server one after the
# other, after one uncounted warm-up round (JIT). Each figure is the median over the rounds, and
# the ratio to smtp-sink is the median of the per-round ratios, so drift of the machine's speed
# between rounds cancels out. Figures mean nothing without the environment line, printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
SINKS=(smtp-sink smtpbench smtp-server)
command -v smtp-source > /dev/null && command -v smtp-sink > /dev/null || { echo "needs smtp-source and smtp-sink (apt-get install postfix)" >&2; exit 2; }
[[ -f dist/cli/main.js ]] || npm run build > /dev/null

echo "node $(node --version) · $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') × $(nproc) · $(uname -sr) · git $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty') · $(date -u +%FT%TZ)"
TCK=$(getconf CLK_TCK)

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -A PID PORT
start_sink() { # name
  local port
  port=$(free_port)
  case $1 in
    smtp-sink) smtp-sink -u nobody "127.0.0.1:$port" 1000 & ;;
    smtpbench) node dist/cli/main.js serve --port "$port" --quiet > /dev/null & ;;
    smtp-server) node bench/smtp-server-sink.mjs "$port" > /dev/null & ;;
  esac
  PID[$1]=$!
  PORT[$1]=$port
  wait_port "$port"
}
stop_sinks() { for s in "${!PID[@]}"; do kill "${PID[$s]}" 2> /dev/null || true; wait "${PID[$s]}" 2> /dev/null || true; done; }
trap stop_sinks EXIT
for s in "${SINKS[@]}"; do start_sink "$s"; done

# One timed smtp-source run against sink $1: prints "wall-seconds sink-cpu-ticks".
timed() {
  local sink=$1 c0 t0 t1 c1
  shift
  c0=$(cpu_ticks "${PID[$sink]}")
  t0=$(date +%s.%N)
  smtp-source "$@" "127.0.0.1:${PORT[$sink]}"
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "${PID[$sink]}")
  echo "$(echo "$t1 - $t0" | bc -l) $((c1 - c0))"
}

printf '\n%-12s %-32s %8s %10s %8s %10s %10s %12s %10s\n' sink workload messages recipients 'wall s' 'msg/s' 'rcpt/s' 'CPU µs/msg' 'vs sink'
workload() { # label messages recipients-per-message smtp-source-args...
  local label=$1 msgs=$2 rcpts=$3 s r
  shift 3
  declare -A walls cpus
  for s in "${SINKS[@]}"; do timed "$s" "$@" > /dev/null; walls[$s]=; cpus[$s]=; done # warm-up round
  for r in $(seq "$REPEAT"); do
    for s in "${SINKS[@]}"; do
      read -r w c < <(timed "$s" "$@")
      walls[$s]+="$w "
      cpus[$s]+="$c "
    done
  done
  local base=(${walls[smtp-sink]})
  for s in "${SINKS[@]}"; do
    local mine=(${walls[$s]}) wall cpu ratio
    wall=$(printf '%s\n' "${mine[@]}" | median)
    cpu=$(printf '%s\n' ${cpus[$s]} | median)
    # Rate ratio of this round = smtp-sink's wall / this sink's wall, same round.
    ratio=$(for i in "${!mine[@]}"; do echo "${base[$i]} / ${mine[$i]}" | bc -l; done | median)
    printf '%-12s %-32s %8d %10d %8.3f %10.0f %10.0f %12.1f %9.2fx\n' "$s" "$label" "$msgs" $((msgs * rcpts)) "$wall" \
      "$(echo "$msgs / $wall" | bc -l)" "$(echo "$msgs * $rcpts / $wall" | bc -l)" "$(echo "$cpu / $TCK * 1000000 / $msgs" | bc -l)" "$ratio"
  done
}

workload '-s 20 -d -m 20000 -l 1024' 20000 1 -s 20 -d -m 20000 -l 1024
workload '-s 20 -d -m 200 -r 1000 -l 1024' 200 1000 -s 20 -d -m 200 -r 1000 -l 1024
echo
echo "Medians of $REPEAT rounds after one warm-up round. CPU µs/msg: the sink process's user+system CPU"
echo "divided by messages; /proc ticks are $((1000000 / TCK)) µs. vs sink: median per-round ratio of rates to smtp-sink's."
