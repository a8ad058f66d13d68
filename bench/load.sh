#!/usr/bin/env bash
# HTTP load on one release node, to price tenant resolution per request.
#
#   bench/load.sh
#
# Builds the release binary, resets and migrates the database
# gatehouse_bench (tenant `acme`), starts `gatehouse serve` on a free
# loopback port (GATEHOUSE_LOG=warn) and runs wrk against it, 127.0.0.1
# only, for each concurrency in BENCH_CONNECTIONS:
#
#   healthz  GET /_ops/healthz                   no tenant resolution
#   path     GET /t/acme/tenant                  path strategy + registry + pool + JSON
#   header   GET /tenant, x-tenant-id: acme      header strategy + registry + pool + JSON
#
# each after a warm-up run, the whole series BENCH_ROUNDS times. It prints a
# summary (requests/s, mean, p50, p99 latency, and the server's CPU time per
# request from /proc/PID/stat) with the median and range over the rounds,
# and the overhead of the tenant endpoints over healthz: the difference of
# mean latencies and of CPU per request, and each as a share of the tenant
# endpoint's figure.
# The server is stopped on exit. Everything is bounded in time: each wrk run
# lasts -d seconds and is killed by `timeout` if it overruns; the waits give
# up after 30 s.
#
# Settings (environment):
#   BENCH_DURATION=15       seconds of each measured run
#   BENCH_WARMUP=3          seconds of the warm-up run before each
#   BENCH_CONNECTIONS="32 1" wrk -c values, one series each
#   BENCH_THREADS=1         wrk -t
#   BENCH_ROUNDS=3          times the whole series is repeated (medians reported)
# The machine should be otherwise idle: the script prints the load average
# before and after.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib.sh
source "$here/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$GATEHOUSE_ROOT"

DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-32 1}
THREADS=${BENCH_THREADS:-1}
ROUNDS=${BENCH_ROUNDS:-3}
DB=gatehouse_bench
REPORT="$here/wrk-report.lua"

trap bench_stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk
fi
ensure_postgres
ensure_redis
bench_build
bench_fresh_database "$DB"
say "gatehouse tenant create --slug acme --name Acme"
"$BENCH_BIN" tenant create --slug acme --name Acme >&2

bench_spawn_server
bench_wait_for /_ops/healthz 30
base="http://127.0.0.1:$BENCH_PORT"
say "server pid $BENCH_PID on $base"
bench_wait_for /_ops/readyz 30
# Both tenant requests must answer 200 before anything is measured.
for check in "$base/t/acme/tenant" "-H x-tenant-id:acme $base/tenant"; do
  # shellcheck disable=SC2086 # $check holds curl arguments
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 $check || true)
  [[ $status == 200 ]] || die "curl $check answered $status, expected 200"
done

ENDPOINTS=(healthz path header)
# One line per measured run:
#   name conns round rps mean_us p50_us p99_us cpu_us non2xx errors load
RESULTS=$(mktemp -t gatehouse-bench-load.XXXXXX)
trap 'bench_stop_server; rm -f "$RESULTS"' EXIT

# The server's CPU time so far (user + system), in microseconds.
server_cpu_us() {
  local stat ticks
  stat=$(<"/proc/$BENCH_PID/stat")
  stat=${stat##*) } # fields from 3 on; utime and stime are fields 14 and 15
  ticks=$(getconf CLK_TCK)
  awk -v t="$ticks" '{ printf "%d", ($12 + $13) * 1000000 / t }' <<<"$stat"
}

# wrk_run NAME CONNECTIONS ROUND: one warm-up run, then one measured run,
# recorded in $RESULTS with the server's CPU time per request.
wrk_run() {
  local name=$1 c=$2 round=$3 args=()
  case $name in
    healthz) args=("$base/_ops/healthz") ;;
    path) args=("$base/t/acme/tenant") ;;
    header) args=(-H 'x-tenant-id: acme' "$base/tenant") ;;
  esac
  say "round $round: wrk $name -c$c, ${WARMUP}s warm-up, ${DURATION}s measured (load $(bench_load))"
  timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$c" -d"${WARMUP}s" "${args[@]}" >/dev/null
  local out line cpu0 cpu1 load
  load=$(bench_load)
  cpu0=$(server_cpu_us)
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency \
    -s "$REPORT" "${args[@]}")
  cpu1=$(server_cpu_us)
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT ' <<<"$out") || die "wrk printed no RESULT line"
  local -A r=()
  local kv
  for kv in ${line#RESULT }; do
    r[${kv%%=*}]=${kv#*=}
  done
  if [[ ${r[non2xx]} != 0 || ${r[errors]} != 0 ]]; then
    warn "$name -c$c: ${r[non2xx]} non-2xx responses, ${r[errors]} socket errors"
  fi
  local cpu_per_req
  cpu_per_req=$(awk -v d=$((cpu1 - cpu0)) -v n="${r[requests]}" 'BEGIN { printf "%.2f", d / n }')
  echo "$name $c $round ${r[rps]} ${r[mean_us]} ${r[p50_us]} ${r[p99_us]} $cpu_per_req ${r[non2xx]} ${r[errors]} $load" >>"$RESULTS"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
  for c in $CONNECTIONS; do
    for name in "${ENDPOINTS[@]}"; do
      wrk_run "$name" "$c" "$round"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rss=$(bench_rss_kib)

# agg NAME CONNS COLUMN: "median min max" of one column over the rounds.
agg() {
  awk -v n="$1" -v c="$2" -v col="$3" '$1 == n && $2 == c { print $col }' "$RESULTS" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median() { agg "$@" | cut -d' ' -f1; }
total() { awk -v n="$1" -v c="$2" -v col="$3" '$1 == n && $2 == c { s += $col } END { print s + 0 }' "$RESULTS"; }

echo
echo "Gatehouse HTTP load, $(date -u +%F), $(bench_machine)"
echo "wrk -t$THREADS -d${DURATION}s --latency (each after a ${WARMUP}s warm-up), $ROUNDS rounds, GATEHOUSE_LOG=warn, release build"
echo "load average before: $load_before, after: $load_after; server RSS at the end: $rss KiB"
echo "1-minute load at the start of the measured runs: $(awk '{ print $11 }' "$RESULTS" | sort -g |
  awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }')"
echo "Medians over the rounds; [min-max] in brackets. cpu/req: the server's CPU time (user+system) per request."
echo
printf '%-8s %5s %22s %24s %8s %8s %20s %7s %6s\n' endpoint conns 'req/s' 'mean us' 'p50 us' 'p99 us' 'cpu/req us' non2xx errors
for c in $CONNECTIONS; do
  for name in "${ENDPOINTS[@]}"; do
    read -r rps rps_lo rps_hi <<<"$(agg "$name" "$c" 4)"
    read -r mean mean_lo mean_hi <<<"$(agg "$name" "$c" 5)"
    read -r cpu cpu_lo cpu_hi <<<"$(agg "$name" "$c" 8)"
    printf '%-8s %5s %8.0f [%5.0f-%5.0f] %8.1f [%6.1f-%6.1f] %8s %8s %6.2f [%5.2f-%5.2f] %7s %6s\n' \
      "$name" "$c" "$rps" "$rps_lo" "$rps_hi" "$mean" "$mean_lo" "$mean_hi" \
      "$(median "$name" "$c" 6)" "$(median "$name" "$c" 7)" "$cpu" "$cpu_lo" "$cpu_hi" \
      "$(total "$name" "$c" 9)" "$(total "$name" "$c" 10)"
  done
done
echo
echo "Overhead of a tenant request over healthz, from the medians:"
echo "  latency: difference of mean latencies, and its share of the tenant request's mean latency"
echo "  cpu:     difference of server CPU per request, and its share of the tenant request's CPU"
for c in $CONNECTIONS; do
  for name in path header; do
    awk -v name="$name" -v c="$c" \
      -v t="$(median "$name" "$c" 5)" -v h="$(median healthz "$c" 5)" \
      -v ct="$(median "$name" "$c" 8)" -v ch="$(median healthz "$c" 8)" \
      -v rt="$(median "$name" "$c" 4)" -v rh="$(median healthz "$c" 4)" 'BEGIN {
        printf "  %-7s -c%-3s latency %+8.1f us = %+6.1f %% of %7.1f us | cpu %+6.2f us = %+6.1f %% of %6.2f us | req/s %+6.1f %%\n",
          name, c, t - h, 100 * (t - h) / t, t, ct - ch, 100 * (ct - ch) / ct, ct, 100 * (rt - rh) / rh
      }'
  done
done
