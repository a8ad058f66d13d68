#!/usr/bin/env bash
# Start-up time and memory of a node whose database holds 10 tenants versus
# 100,000: a node must not load or scan the tenant table to start, so both
# should start as fast and be as small.
#
#   bench/startup.sh
#
# Builds the release binary, then resets and migrates two databases,
# gatehouse_bench_10 and gatehouse_bench_100k, and fills them with 10 and
# 100,000 tenants (bench-1 ... bench-N) in one INSERT ... SELECT each, as the
# schema owner. Then, BENCH_RUNS times, alternating between the two:
#
#   - starts `gatehouse serve` (release, GATEHOUSE_LOG=warn, a free loopback
#     port) and measures the time from just before the process is started
#     until GET /_ops/readyz answers 200, polling every 10 ms (bash over
#     /dev/tcp, so the polling itself starts no process);
#   - reads VmRSS from /proc/PID/status right then;
#   - sends BENCH_REQUESTS requests (one keep-alive connection, curl) to
#     GET /t/bench-1/tenant, checks that every one answered 200, and reads
#     VmRSS again;
#   - stops the server (SIGTERM).
#
# It prints every run and a table of medians. Bounded in time: every wait
# gives up after 30 s, the requests after 120 s.
#
# Settings (environment): BENCH_RUNS=5, BENCH_REQUESTS=1000.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib.sh
source "$here/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$GATEHOUSE_ROOT"

RUNS=${BENCH_RUNS:-5}
REQUESTS=${BENCH_REQUESTS:-1000}
# name:database:tenants
SETS=("10:gatehouse_bench_10:10" "100k:gatehouse_bench_100k:100000")

trap bench_stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_postgres
ensure_redis
bench_build

for set in "${SETS[@]}"; do
  IFS=: read -r name db n <<<"$set"
  bench_fresh_database "$db"
  say "inserting $n tenants into $db"
  bench_psql_owner "$db" <<SQL
insert into tenants (id, slug, display_name)
select gen_random_uuid(), 'bench-' || g, 'Bench ' || g from generate_series(1, $n) g;
analyze tenants;
SQL
  count=$(bench_psql_owner "$db" -c 'select count(*) from tenants')
  say "$db: $count tenants (with the built-in ones)"
done

declare -A READY RSS_READY RSS_AFTER
for ((run = 1; run <= RUNS; run++)); do
  for set in "${SETS[@]}"; do
    IFS=: read -r name db n <<<"$set"
    bench_use_database "$db"
    load=$(bench_load)
    bench_spawn_server
    bench_wait_for /_ops/readyz 30
    ready_us=$BENCH_READY_US
    rss_ready=$(bench_rss_kib)
    url="http://127.0.0.1:$BENCH_PORT/t/bench-1/tenant?n=[1-$REQUESTS]"
    ok=$(timeout 120 curl -s -o /dev/null -w '%{http_code}\n' "$url" | grep -c '^200$' || true)
    [[ $ok == "$REQUESTS" ]] || die "$name: only $ok of $REQUESTS requests to /t/bench-1/tenant answered 200"
    rss_after=$(bench_rss_kib)
    bench_stop_server
    READY[$name]+=" $ready_us"
    RSS_READY[$name]+=" $rss_ready"
    RSS_AFTER[$name]+=" $rss_after"
    printf 'run %d  %-5s tenants=%-6s ready=%6.1f ms  rss_ready=%6d KiB  rss_after_%d=%6d KiB  (load %s)\n' \
      "$run" "$name" "$n" "$(awk -v u="$ready_us" 'BEGIN { print u / 1000 }')" "$rss_ready" \
      "$REQUESTS" "$rss_after" "$load"
  done
done

echo
echo "Gatehouse start-up, $(date -u +%F), $(bench_machine)"
echo "release build, GATEHOUSE_LOG=warn, Redis event bus; $RUNS runs each, alternating; load now $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-6s %8s %18s %18s %18s %22s\n' set tenants 'ready ms (median)' 'ready ms min-max' 'RSS ready KiB' "RSS after $REQUESTS req KiB"
for set in "${SETS[@]}"; do
  IFS=: read -r name db n <<<"$set"
  # shellcheck disable=SC2086 # word splitting of the recorded values is intended
  {
    med=$(bench_median ${READY[$name]})
    lo=$(printf '%s\n' ${READY[$name]} | sort -n | head -n 1)
    hi=$(printf '%s\n' ${READY[$name]} | sort -n | tail -n 1)
    rr=$(bench_median ${RSS_READY[$name]})
    ra=$(bench_median ${RSS_AFTER[$name]})
  }
  printf '%-6s %8s %18.1f %18s %18s %22s\n' "$name" "$n" "$(awk -v u="$med" 'BEGIN { print u / 1000 }')" \
    "$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.1f-%.1f", a / 1000, b / 1000 }')" "$rr" "$ra"
done
