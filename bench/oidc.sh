#!/usr/bin/env bash
# HTTP load on the OpenID Connect endpoints of one release node.
#
#   bench/oidc.sh
#
# Builds the release binary and the load generator (bench/src/bin/oidc-load.rs),
# resets and migrates the database gatehouse_bench, creates two tenants,
# `acme` and `beta`, each with a confidential first-party client (client
# secret Basic; grants authorization_code, refresh_token and
# client_credentials; scope `api`; ID tokens RS256, the default) and, at
# acme, a user; starts `gatehouse serve` on a free loopback port
# (GATEHOUSE_LOG=warn) and measures, 127.0.0.1 only:
#
#   healthz             GET /_ops/healthz: the bare-handler ceiling       wrk
#   discovery           GET /t/acme/.well-known/openid-configuration     wrk
#   jwks                GET the jwks_uri of the discovery document       wrk
#   client_credentials  POST /t/acme/token, Basic auth, scope=api        wrk
#   introspection       POST /t/acme/introspect of an access token       wrk
#   refresh             POST /t/acme/token grant_type=refresh_token, each
#                       worker rotating its own chain                    oidc-load
#   code_exchange       a logged-in browser: GET /authorize -> code at
#                       once -> POST /token (no password check)          oidc-load
#   authorize           the same GET /authorize alone (code not redeemed):
#                       subtracted from code_exchange, it prices the
#                       authorization_code grant                         oidc-load
#   code_flow           a new browser: GET /authorize -> GET /login ->
#                       POST /login (argon2id) -> code -> POST /token    oidc-load
#
# each after a warm-up, and then the login-burst isolation: the latency of
# client_credentials and of discovery at tenant beta, sent at a fixed rate
# (an open loop: oidc-load --rate), alone, then again while a burst of code
# flows (argon2id logins) runs at tenant acme, and then beside hash-load
# (bench/src/bin/hash-load.rs): the server's password hasher, with the
# server's number of hashing threads, verifying as many passwords a second
# as the burst signed people in, in a process of its own. The last run
# shows what the hashing alone costs the other tenant. Finally
# pgbench prices one primary-key round trip to PostgreSQL, and a
# transaction shaped like the server's tenant transactions.
#
# It prints every report on standard error and, on standard output, a
# summary: requests (or flows)/s, mean, p50, p99, the server's CPU time per
# request (or flow) and that of PostgreSQL + Redis, from /proc/PID/stat; then
# the targets, computed from these figures and the signing costs that
# sign-cost (bench/src/bin/sign-cost.rs) measures before and after the runs.
#
# Before each measured run it waits until the 1-minute load average is below
# BENCH_QUIET_LOAD, for at most BENCH_QUIET_MAX seconds each time and
# BENCH_QUIET_BUDGET seconds over the whole run (the runs themselves raise
# the load average, which takes a minute to forget them); the load at the
# start of each run is printed beside it. Everything is
# bounded in time: each wrk and oidc-load run is killed by `timeout` if it
# overruns, the waits give up, and the server is stopped on exit.
#
# Settings (environment):
#   BENCH_DURATION=10            seconds of each measured run
#   BENCH_WARMUP=3               seconds of warm-up before each
#   BENCH_CONNECTIONS=32         wrk -c, and workers of refresh and code_exchange
#   BENCH_FLOW_CONCURRENCY=8     workers of code_flow
#   BENCH_ISOLATION_RATE=1000    requests/s sent to tenant beta in the isolation runs
#   BENCH_ISOLATION_CONNECTIONS=32  the most of them in flight at once
#   BENCH_BURST_CONCURRENCY=16   code_flow workers of the login burst (with
#                                BENCH_BURST_RATE, the most flows at once)
#   BENCH_BURST_RATE=            unset: the burst's workers loop as fast as
#                                they can; a number: the burst starts that
#                                many code flows a second (oidc-load --rate)
#   BENCH_HASH_NEIGHBOUR=1       the hash-load run of each isolation scenario
#                                ("" to skip)
#   BENCH_THREADS=1              wrk -t, and threads of oidc-load
#   BENCH_SCENARIOS="healthz discovery jwks client_credentials introspection refresh code_exchange authorize code_flow"
#   BENCH_ISOLATION="client_credentials discovery"   ("" to skip)
#   BENCH_QUIET_LOAD=0.7         load average to wait for
#   BENCH_QUIET_MAX=120          seconds of waiting for it before one run
#   BENCH_QUIET_BUDGET=900       seconds of waiting for it, in all
#   BENCH_SIGN_RS256_US BENCH_SIGN_ES256_US BENCH_VERIFY_ES256_US
#                                signing costs in µs for the bounds; unset, they
#                                are measured by sign-cost (bench/src/bin) on an
#                                idle machine before and after the scenarios,
#                                and the mean of the two is used
#   CARGO_TARGET_DIR             honoured by the builds
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib.sh
source "$here/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$GATEHOUSE_ROOT"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
FLOW_CONCURRENCY=${BENCH_FLOW_CONCURRENCY:-8}
ISO_RATE=${BENCH_ISOLATION_RATE:-1000}
ISO_CONNECTIONS=${BENCH_ISOLATION_CONNECTIONS:-32}
BURST_CONCURRENCY=${BENCH_BURST_CONCURRENCY:-16}
BURST_RATE=${BENCH_BURST_RATE:-}
HASH_NEIGHBOUR=${BENCH_HASH_NEIGHBOUR-1}
THREADS=${BENCH_THREADS:-1}
SCENARIOS=${BENCH_SCENARIOS:-healthz discovery jwks client_credentials introspection refresh code_exchange authorize code_flow}
ISOLATION=${BENCH_ISOLATION-client_credentials discovery}
QUIET_LOAD=${BENCH_QUIET_LOAD:-0.7}
QUIET_BUDGET=${BENCH_QUIET_BUDGET:-900}
QUIET_MAX=${BENCH_QUIET_MAX:-120}
SIGN_RS256=${BENCH_SIGN_RS256_US:-}
SIGN_ES256=${BENCH_SIGN_ES256_US:-}
VERIFY_ES256=${BENCH_VERIFY_ES256_US:-}
DB=gatehouse_bench
PGBENCH_DB=gatehouse_bench_pgbench
REPORT="$here/wrk-report.lua"
REDIRECT_URI=http://127.0.0.1:9/cb
USERNAME=alice

RESULTS=$(mktemp -t gatehouse-bench-oidc.XXXXXX)
BURST_OUT=$(mktemp -t gatehouse-bench-burst.XXXXXX)
HASH_OUT=$(mktemp -t gatehouse-bench-hash.XXXXXX)
BURST_PID=""
cleanup() {
  if [[ -n $BURST_PID ]]; then
    kill "$BURST_PID" 2>/dev/null || true
    wait "$BURST_PID" 2>/dev/null || true
  fi
  bench_stop_server
  rm -f "$RESULTS" "$RESULTS.steps" "$RESULTS.hashes" "$BURST_OUT" "$HASH_OUT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk >&2
fi
ensure_postgres
ensure_redis
command -v pgbench >/dev/null 2>&1 || die "pgbench not found (it comes with the PostgreSQL server package)"
bench_build
bench_build_tool
bench_fresh_database "$DB"

# json_field NAME JSON: the string value of "NAME" in flat JSON.
json_field() {
  [[ $2 =~ \"$1\":\"([^\"]+)\" ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# make_client SLUG: a confidential first-party client; prints "ID SECRET".
make_client() {
  local out id secret
  out=$("$BENCH_BIN" client create --tenant "$1" --name "Bench RP" --redirect-uri "$REDIRECT_URI" \
    --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials \
    --scope api --first-party --json)
  id=$(json_field client_id "$out") || die "client create printed no client_id: $out"
  secret=$(json_field client_secret "$out") || die "client create printed no client_secret"
  printf '%s %s\n' "$id" "$secret"
}

for slug in acme beta; do
  say "gatehouse tenant create --slug $slug"
  "$BENCH_BIN" tenant create --slug "$slug" --name "${slug^}" >&2
done
read -r A_ID A_SECRET <<<"$(make_client acme)"
read -r B_ID B_SECRET <<<"$(make_client beta)"
A_BASIC="Basic $(printf '%s:%s' "$A_ID" "$A_SECRET" | base64 -w0)"
B_BASIC="Basic $(printf '%s:%s' "$B_ID" "$B_SECRET" | base64 -w0)"
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')
say "gatehouse user create --tenant acme --username $USERNAME"
printf '%s\n' "$PASSWORD" |
  "$BENCH_BIN" user create --tenant acme --username "$USERNAME" --email alice@example.com --password-stdin >&2
export OIDC_LOAD_PASSWORD=$PASSWORD
# Production-shaped tables with statistics (bench/seed.sql says why).
say "seeding other users and refresh tokens, then analyze (bench/seed.sql)"
bench_psql_owner "$DB" -f "$here/seed.sql" >/dev/null

bench_spawn_server
bench_wait_for /_ops/healthz 30
base="http://127.0.0.1:$BENCH_PORT"
say "server pid $BENCH_PID on $base"
bench_wait_for /_ops/readyz 30

# curl_ok ARGS...: the body of a request that must answer 200.
curl_ok() {
  local out status
  out=$(curl -s --max-time 10 -w '\n%{http_code}' "$@") || die "curl $* failed"
  status=${out##*$'\n'}
  [[ $status == 200 ]] || die "curl $* answered $status: ${out%$'\n'*}"
  printf '%s\n' "${out%$'\n'*}"
}

discovery=$(curl_ok "$base/t/acme/.well-known/openid-configuration")
jwks_uri=$(json_field jwks_uri "$discovery") || die "no jwks_uri in the discovery document"
# The issuer names the public URL (no port): the same path on our port.
jwks_path=/${jwks_uri#*://*/}
curl_ok "$base$jwks_path" >/dev/null
curl_ok "$base/t/beta/.well-known/openid-configuration" >/dev/null

# mint SLUG BASIC: a fresh client_credentials access token.
mint() {
  local out
  out=$(curl_ok -H "Authorization: $2" -d grant_type=client_credentials -d scope=api "$base/t/$1/token")
  json_field access_token "$out" || die "no access_token in $out"
}
mint beta "$B_BASIC" >/dev/null
ACCESS_TOKEN=$(mint acme "$A_BASIC")
[[ $(curl_ok -H "Authorization: $A_BASIC" -d "token=$ACCESS_TOKEN" "$base/t/acme/introspect") == *'"active":true'* ]] ||
  die "introspection of a fresh access token did not answer active"

# The processes whose CPU time counts as "db": the PostgreSQL backends of
# the bench database (the server's connections), PostgreSQL's WAL writer,
# and Redis; matched on their command lines (process titles). Backends of
# other databases (a test suite running meanwhile) do not count.
AUX_MATCH=(": gatehouse_app $DB " ": walwriter" "redis-server")
aux_pids() {
  local f line m pid
  for f in /proc/[0-9]*/cmdline; do
    line=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
    [[ $line != *--aux-match* ]] || continue
    for m in "${AUX_MATCH[@]}"; do
      if [[ $line == *"$m"* ]]; then
        pid=${f#/proc/}
        printf '%s\n' "${pid%/cmdline}"
        break
      fi
    done
  done
}

QUIET_LEFT=$QUIET_BUDGET
quiet() {
  local t0=$SECONDS limit=$QUIET_LEFT
  ((limit < QUIET_MAX)) || limit=$QUIET_MAX
  bench_wait_quiet "$QUIET_LOAD" "$limit" || true
  QUIET_LEFT=$((QUIET_LEFT - (SECONDS - t0)))
  ((QUIET_LEFT > 0)) || QUIET_LEFT=0
}

# record NAME CONNS RESULT_LINE SERVER_CPU_US AUX_CPU_US LOAD: one line of
# $RESULTS, with the server's resident set size right after the run:
#   name conns rps mean_us p50_us p99_us cpu_per_op aux_per_op non2xx errors load ops http_per_op rss_kib
record() {
  local name=$1 c=$2 line=$3 cpu=$4 aux=$5 load=$6 kv rss
  rss=$(bench_rss_kib)
  local -A r=([http_requests]=0)
  for kv in ${line#RESULT }; do
    r[${kv%%=*}]=${kv#*=}
  done
  ((r[requests] > 0)) || die "$name -c$c: no request completed"
  [[ ${r[http_requests]} != 0 ]] || r[http_requests]=${r[requests]}
  if [[ ${r[non2xx]} != 0 || ${r[errors]} != 0 ]]; then
    warn "$name -c$c: ${r[non2xx]} unexpected answers, ${r[errors]} transport errors"
  fi
  awk -v n="$name" -v c="$c" -v rps="${r[rps]}" -v mean="${r[mean_us]}" -v p50="${r[p50_us]}" \
    -v p99="${r[p99_us]}" -v cpu="$cpu" -v aux="$aux" -v e="${r[non2xx]}" -v f="${r[errors]}" \
    -v ld="$load" -v ops="${r[requests]}" -v http="${r[http_requests]}" -v rss="$rss" 'BEGIN {
      printf "%s %s %s %s %s %s %.2f %.2f %s %s %s %s %.2f %s\n",
        n, c, rps, mean, p50, p99, cpu / ops, aux / ops, e, f, ld, ops, http / ops, rss
    }' >>"$RESULTS"
}

# col TAG COLUMN: one field of the row TAG.
col() { awk -v n="$1" -v k="$2" '$1 == n { print $k; exit }' "$RESULTS"; }

# wrk_args NAME SLUG: sets ARGS (wrk arguments) and BODY (WRK_BODY) for an endpoint.
wrk_args() {
  local name=$1 slug=${2:-acme} basic=$A_BASIC token=$ACCESS_TOKEN
  [[ $slug == acme ]] || basic=$B_BASIC
  BODY=""
  case $name in
    healthz) ARGS=("$base/_ops/healthz") ;;
    discovery) ARGS=("$base/t/$slug/.well-known/openid-configuration") ;;
    jwks) ARGS=("$base$jwks_path") ;;
    client_credentials)
      ARGS=(-H "Authorization: $basic" "$base/t/$slug/token")
      BODY="grant_type=client_credentials&scope=api"
      ;;
    introspection)
      ARGS=(-H "Authorization: $basic" "$base/t/$slug/introspect")
      BODY="token=$token&token_type_hint=access_token"
      ;;
    *) die "no wrk endpoint $name" ;;
  esac
}

# aux_cpu: "PID CPU_US" for each process of aux_pids.
aux_cpu() {
  local pid
  for pid in $(aux_pids); do
    printf '%s %s\n' "$pid" "$(bench_cpu_us "$pid")"
  done
}

# aux_delta BEFORE AFTER: the CPU microseconds spent between two aux_cpu
# readings by the processes alive at the second: since the first, or all of
# it for one that started in between (a database connection opened during
# the run). A process that ended in between is lost.
aux_delta() {
  awk 'NR == FNR { t0[$1] = $2; next } { s += $2 - ($1 in t0 ? t0[$1] : 0) } END { print s + 0 }' \
    <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# wrk_measure NAME CONNS SLUG TAG: a warm-up run, then a measured one,
# recorded as TAG with the server's and the database's CPU time.
wrk_measure() {
  local name=$1 c=$2 slug=$3 tag=$4 out line load cpu0 cpu1 aux0 aux1
  wrk_args "$name" "$slug"
  say "wrk $tag -c$c: ${WARMUP}s warm-up, ${DURATION}s measured (load $(bench_load))"
  WRK_BODY=$BODY timeout $((WARMUP + 30)) wrk -t"$THREADS" -c"$c" -d"${WARMUP}s" -s "$REPORT" \
    "${ARGS[@]}" >/dev/null
  load=$(bench_load)
  aux0=$(aux_cpu)
  cpu0=$(bench_cpu_us "$BENCH_PID")
  out=$(WRK_BODY=$BODY timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency \
    -s "$REPORT" "${ARGS[@]}")
  cpu1=$(bench_cpu_us "$BENCH_PID")
  aux1=$(aux_cpu)
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT ' <<<"$out") || die "wrk printed no RESULT line"
  record "$tag" "$c" "$line" $((cpu1 - cpu0)) "$(aux_delta "$aux0" "$aux1")" "$load"
}

# load_run SCENARIO CONNS [DURATION [OPTION...]]: runs oidc-load at acme,
# with any further options (--rate R); prints its output.
load_run() {
  local scenario=$1 c=$2 d=${3:-$DURATION} m aux=()
  shift $(($# < 3 ? $# : 3))
  for m in "${AUX_MATCH[@]}"; do aux+=(--aux-match "$m"); done
  OIDC_LOAD_CLIENT_SECRET=$A_SECRET timeout $((WARMUP + d + 150)) "$BENCH_LOAD_BIN" \
    --scenario "$scenario" --base "$base" --tenant acme --client-id "$A_ID" \
    --redirect-uri "$REDIRECT_URI" --username "$USERNAME" --concurrency "$c" \
    --warmup "$WARMUP" --duration "$d" --threads "$THREADS" \
    --server-pid "$BENCH_PID" --clk-tck "$(getconf CLK_TCK)" "${aux[@]}" "$@"
}

# load_measure NAME CONNS: one oidc-load run (its warm-up is inside).
load_measure() {
  local name=$1 c=$2 out line load cpu aux
  say "oidc-load ${name//_/-} -c$c: ${WARMUP}s warm-up, ${DURATION}s measured (load $(bench_load))"
  load=$(bench_load)
  out=$(load_run "${name//_/-}" "$c")
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT ' <<<"$out") || die "oidc-load printed no RESULT line"
  [[ $line =~ \ cpu_us=([0-9]+) ]] && cpu=${BASH_REMATCH[1]}
  [[ $line =~ \ aux_cpu_us=([0-9]+) ]] && aux=${BASH_REMATCH[1]}
  record "$name" "$c" "$line" "${cpu:-0}" "${aux:-0}" "$load"
  grep '^STEP ' <<<"$out" | sed "s/^STEP /STEP scenario=$name /" >>"$RESULTS.steps"
}

# sign_cost: one sign-cost line on a quiet machine, also to standard error.
SIGN_LINES=()
sign_cost() {
  local line
  quiet
  line=$("$BENCH_SIGN_BIN") || die "sign-cost failed"
  say "signing costs now: ${line#SIGN }"
  SIGN_LINES+=("$line")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%FT%TZ)
sign_cost
for name in $SCENARIOS; do
  quiet
  case $name in
    healthz | discovery | jwks | client_credentials | introspection)
      if [[ $name == introspection ]]; then
        # Fresh, so that it stays valid through the run (5 minutes by default).
        ACCESS_TOKEN=$(mint acme "$A_BASIC")
      fi
      wrk_measure "$name" "$CONNECTIONS" acme "$name"
      if [[ $name == introspection ]]; then
        [[ $(curl_ok -H "Authorization: $A_BASIC" -d "token=$ACCESS_TOKEN" "$base/t/acme/introspect") == *'"active":true'* ]] ||
          warn "the introspected token was no longer active after the run: the figures may be of inactive answers"
      fi
      ;;
    refresh | code_exchange | authorize) load_measure "$name" "$CONNECTIONS" ;;
    code_flow) load_measure "$name" "$FLOW_CONCURRENCY" ;;
    *) die "unknown scenario $name" ;;
  esac
done

# rate_measure NAME TAG: NAME (client_credentials or discovery) at tenant
# beta, ISO_RATE requests/s on a fixed schedule whatever the server does
# (oidc-load --rate: each latency counts from when the request was due), so
# the load stays that of a tenant that does not grow to fill the machine.
# A closed loop such as wrk's takes every cycle the server leaves free, so
# "alone" is already a saturated machine, and any other work at all lengthens
# its latencies: it measures how CPU is shared, not whether requests wait.
rate_measure() {
  local name=$1 tag=$2 out line load cpu aux m auxm=()
  for m in "${AUX_MATCH[@]}"; do auxm+=(--aux-match "$m"); done
  say "oidc-load ${name//_/-} at beta, $ISO_RATE/s: ${WARMUP}s warm-up, ${DURATION}s measured (load $(bench_load))"
  load=$(bench_load)
  out=$(OIDC_LOAD_CLIENT_SECRET=$B_SECRET timeout $((WARMUP + DURATION + 150)) "$BENCH_LOAD_BIN" \
    --scenario "${name//_/-}" --rate "$ISO_RATE" --base "$base" --tenant beta --client-id "$B_ID" \
    --concurrency "$ISO_CONNECTIONS" --warmup "$WARMUP" --duration "$DURATION" --threads "$THREADS" \
    --server-pid "$BENCH_PID" --clk-tck "$(getconf CLK_TCK)" "${auxm[@]}")
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT ' <<<"$out") || die "oidc-load printed no RESULT line"
  [[ $line =~ \ cpu_us=([0-9]+) ]] && cpu=${BASH_REMATCH[1]}
  [[ $line =~ \ aux_cpu_us=([0-9]+) ]] && aux=${BASH_REMATCH[1]}
  record "$tag" "$ISO_CONNECTIONS" "$line" "${cpu:-0}" "${aux:-0}" "$load"
}

# Login-burst isolation: tenant beta alone, then beside code flows at acme,
# then beside hash-load at the rate the burst reached.
burst_opts=()
burst_what="oidc-load code-flow -c$BURST_CONCURRENCY"
if [[ -n $BURST_RATE ]]; then
  burst_opts=(--rate "$BURST_RATE")
  burst_what="oidc-load code-flow at $BURST_RATE/s, at most $BURST_CONCURRENCY at once"
fi
# The server's hashing threads, for hash-load (0: the same default).
HASH_THREADS=${GATEHOUSE_PASSWORD_HASH_THREADS:-0}
for name in $ISOLATION; do
  quiet
  rate_measure "$name" "iso_${name}_alone"
  quiet
  say "login burst at acme: $burst_what while beta gets $ISO_RATE/s"
  # The burst runs 2 s before beta's warm-up and past the measured run.
  load_run code-flow "$BURST_CONCURRENCY" $((WARMUP + DURATION + 2)) "${burst_opts[@]}" >"$BURST_OUT" &
  BURST_PID=$!
  sleep 2
  rate_measure "$name" "iso_${name}_burst"
  wait "$BURST_PID" || die "the login burst failed"
  BURST_PID=""
  sed 's/^/    burst: /' "$BURST_OUT" >&2
  line=$(grep '^RESULT ' "$BURST_OUT") || die "the burst printed no RESULT line"
  [[ $line =~ \ cpu_us=([0-9]+) ]] && cpu=${BASH_REMATCH[1]}
  [[ $line =~ \ aux_cpu_us=([0-9]+) ]] && aux=${BASH_REMATCH[1]}
  record "iso_${name}_burstflows" "$BURST_CONCURRENCY" "$line" "${cpu:-0}" "${aux:-0}" "-"
  [[ -n $HASH_NEIGHBOUR ]] || continue
  flows=$(col "iso_${name}_burstflows" 3)
  quiet
  say "hash-load at $flows/s (the burst's rate), threads $HASH_THREADS, while beta gets $ISO_RATE/s"
  timeout $((WARMUP + DURATION + 150)) "$BENCH_HASH_BIN" --rate "$flows" --threads "$HASH_THREADS" \
    --concurrency "$BURST_CONCURRENCY" --warmup 0 --duration $((WARMUP + DURATION + 2)) \
    --clk-tck "$(getconf CLK_TCK)" >"$HASH_OUT" &
  BURST_PID=$!
  sleep 2
  rate_measure "$name" "iso_${name}_hashes"
  wait "$BURST_PID" || die "hash-load failed"
  BURST_PID=""
  sed 's/^/    hash-load: /' "$HASH_OUT" >&2
  line=$(grep '^HASHES ' "$HASH_OUT") || die "hash-load printed no HASHES line"
  printf '%s %s\n' "iso_${name}" "${line#HASHES }" >>"$RESULTS.hashes"
done

sign_cost
# The bounds' signing costs: as given, or the mean of the two measurements.
sign_mean() {
  printf '%s\n' "${SIGN_LINES[@]}" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { s += $2; n++ } END { printf "%.1f", s / n }'
}
[[ -n $SIGN_RS256 ]] || SIGN_RS256=$(sign_mean rs256_us)
[[ -n $SIGN_ES256 ]] || SIGN_ES256=$(sign_mean es256_us)
[[ -n $VERIFY_ES256 ]] || VERIFY_ES256=$(sign_mean es256_verify_us)

# One primary-key round trip to PostgreSQL, priced by pgbench (select-only,
# prepared, one client, over TCP to 127.0.0.1): its latency, and the CPU
# time it costs pgbench (the client) and the backend (the server); and the
# same for a transaction shaped like the server's tenant transaction for
# client authentication: begin, set_config, two primary-key selects, commit.
# The latency of a round trip depends on the machine's state (an idle
# machine wakes its CPUs for each message), so the bounds below use the CPU
# cost.
quiet
reset_database "$PGBENCH_DB" >/dev/null
pg=(-h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" -U "$GATEHOUSE_OWNER_ROLE")
say "pgbench -i -s 1 $PGBENCH_DB"
pgbench "${pg[@]}" -i -s 1 -q "$PGBENCH_DB" >/dev/null 2>&1 || die "pgbench -i failed"
txfile=$(mktemp -t gatehouse-bench-tx.XXXXXX)
cat >"$txfile" <<'SQL'
\set aid random(1, 100000)
BEGIN;
SELECT set_config('app.tenant_id', 'bench', true);
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
COMMIT;
SQL
# pg_cost ARGS...: a 7 s pgbench -c1 run; prints "LATENCY_US CLIENT_CPU_US
# SERVER_CPU_US" per transaction, the CPU measured from 2 s to 6 s (with the
# transactions of that window from pgbench's progress reports).
pg_cost() {
  local out pid bpid="" c0 c1 b0 b1 t0 t1 f client
  out=$(mktemp -t gatehouse-bench-pgbench.XXXXXX)
  timeout 60 pgbench "${pg[@]}" -n -M prepared -c1 -T7 -P1 "$@" "$PGBENCH_DB" >"$out" 2>&1 &
  pid=$!
  sleep 2
  for f in /proc/[0-9]*/cmdline; do
    if [[ $(tr '\0' ' ' <"$f" 2>/dev/null) == *": $GATEHOUSE_OWNER_ROLE $PGBENCH_DB "* ]]; then
      bpid=${f#/proc/} bpid=${bpid%/cmdline}
    fi
  done

  client=$(pgrep -P "$pid" -x pgbench) || client=""
  [[ -n $bpid && -n $client ]] || die "pgbench or its backend not found: $(cat "$out")"
  t0=$(bench_now_us) c0=$(bench_cpu_us "$client") b0=$(bench_cpu_us "$bpid")
  sleep 4
  t1=$(bench_now_us) c1=$(bench_cpu_us "$client") b1=$(bench_cpu_us "$bpid")
  wait "$pid" || die "pgbench $* failed: $(cat "$out")"
  sed 's/^/    /' "$out" >&2
  # Progress lines: "progress: 3.0 s, 35000.1 tps, lat 0.028 ms stddev ..."; the
  # reports at 3, 4, 5 and 6 s cover the window.
  awk -v c="$((c1 - c0))" -v b="$((b1 - b0))" -v w="$((t1 - t0))" '
    /^progress: [3-6]\.0 s/ { tps += $4; n++ }
    /^latency average/ { lat = $4 * 1000 }
    END { x = tps / n * w / 1e6; printf "%.1f %.1f %.1f\n", lat, c / x, b / x }' "$out"
  rm -f "$out"
}
say "pgbench -S -M prepared -c1 (load $(bench_load))"
read -r PG_RTT PG_RTT_CLIENT PG_RTT_SERVER <<<"$(pg_cost -S)"
say "pgbench tenant-transaction script -c1 (load $(bench_load))"
read -r PG_TX PG_TX_CLIENT PG_TX_SERVER <<<"$(pg_cost -f "$txfile")"
rm -f "$txfile"
psql_super -c "drop database if exists $PGBENCH_DB" >/dev/null
PG_RT_CPU=$(awk -v a="$PG_RTT_CLIENT" -v b="$PG_RTT_SERVER" 'BEGIN { printf "%.1f", a + b }')

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rss=$(bench_rss_kib)
waited=$((QUIET_BUDGET - QUIET_LEFT))


echo
echo "Gatehouse OpenID Connect load, $started, $(bench_machine)"
echo "wrk -t$THREADS and oidc-load --threads $THREADS, ${DURATION}s measured after ${WARMUP}s warm-up; release build, GATEHOUSE_LOG=warn"
echo "load average before: $load_before, after: $load_after; waited ${waited} s in all for a load below $QUIET_LOAD; server RSS at the end: $rss KiB"
echo "ops: requests, or whole operations for oidc-load (a refresh; authorize+token; a whole login flow)."
echo "cpu/op: the server's CPU time (user+system) per op; db/op: that of PostgreSQL and Redis; http/op: HTTP requests per op;"
echo "rss: the server's resident set size after the run; load: the 1-minute load average at the start of the measured run."
echo
printf '%-34s %5s %9s %9s %9s %9s %9s %9s %7s %6s %6s %9s %5s\n' \
  scenario conns 'ops/s' 'mean us' 'p50 us' 'p99 us' 'cpu/op us' 'db/op us' 'http/op' non2xx errors 'rss KiB' load
while read -r n c rps mean p50 p99 cpu aux e f load _ http rss; do
  printf '%-34s %5s %9.1f %9.1f %9s %9s %9.1f %9.1f %7.2f %6s %6s %9s %5s\n' \
    "$n" "$c" "$rps" "$mean" "$p50" "$p99" "$cpu" "$aux" "$http" "$e" "$f" "$rss" "$load"
done <"$RESULTS"
if [[ -s $RESULTS.steps ]]; then
  echo
  echo "Steps of the oidc-load scenarios (latency of each HTTP request, measured window only):"
  sed 's/^STEP /  /' "$RESULTS.steps"
fi
rm -f "$RESULTS.steps"
echo
echo "PostgreSQL (pgbench -c1, prepared, TCP 127.0.0.1), per transaction: latency, CPU of pgbench + CPU of the backend:"
echo "  one primary-key select:                    $PG_RTT us, $PG_RTT_CLIENT + $PG_RTT_SERVER us CPU"
echo "  begin + set_config + 2 selects + commit:   $PG_TX us, $PG_TX_CLIENT + $PG_TX_SERVER us CPU"

echo
echo "Signing costs, sign-cost on an idle machine before and after the scenarios (us):"
printf '  %s\n' "${SIGN_LINES[@]#SIGN }"
echo "  used for the bounds: RS256 sign $SIGN_RS256, ES256 sign $SIGN_ES256, ES256 verify $VERIFY_ES256"

echo
echo "Targets:"
# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" 'BEGIN { print (r != "n/a" && r <= 1.5) ? "met" : "NOT met" }'; }
h_rps=$(col healthz 3)
h_cpu=$(col healthz 7)
for n in discovery jwks; do
  [[ -n $h_rps && -n $(col "$n" 3) ]] || continue
  by_rps=$(ratio "$h_rps" "$(col "$n" 3)")
  by_cpu=$(ratio "$(col "$n" 7)" "$h_cpu")
  echo "  $n vs healthz: healthz req/s / $n req/s = $by_rps ($(verdict "$by_rps")); $n cpu/req / healthz cpu/req = $by_cpu ($(verdict "$by_cpu")); target <= 1.5"
done
# grant NAME SIGNATURES_US LABEL [CPU_US AUX_US]: the bound of one grant and
# how its cost compares (the cost from the row NAME unless given).
grant() {
  local n=$1 sig=$2 label=$3 cpu=${4:-} aux=${5:-} bound
  [[ -n $cpu ]] || cpu=$(col "$n" 7)
  [[ -n $cpu ]] || return 0
  [[ -n $aux ]] || aux=$(col "$n" 8)
  bound=$(awk -v s="$sig" -v r="$PG_RT_CPU" 'BEGIN { printf "%.1f", s + r }')
  local r1 r2
  r1=$(ratio "$cpu" "$bound")
  r2=$(ratio "$(awk -v a="$cpu" -v b="$aux" 'BEGIN { print a + b }')" "$bound")
  echo "  $n: bound = $label ($sig us) + the CPU of one round trip ($PG_RT_CPU us) = $bound us;" \
    "server cpu/op $cpu us = ${r1}x ($(verdict "$r1")); server+db cpu/op $(awk -v a="$cpu" -v b="$aux" 'BEGIN { print a + b }') us = ${r2}x; target <= 1.5x"
}
grant client_credentials "$SIGN_ES256" "ES256 access token"
grant refresh "$(awk -v a="$SIGN_ES256" -v b="$SIGN_RS256" 'BEGIN { print a + b }')" "ES256 access + RS256 ID token"
both=$(awk -v a="$SIGN_ES256" -v b="$SIGN_RS256" 'BEGIN { print a + b }')
grant code_exchange "$both" "ES256 access + RS256 ID token (with the authorize request)"
if [[ -n $(col code_exchange 7) && -n $(col authorize 7) ]]; then
  grant authorization_code "$both" "ES256 access + RS256 ID token (code_exchange - authorize)" \
    "$(awk -v a="$(col code_exchange 7)" -v b="$(col authorize 7)" 'BEGIN { printf "%.2f", a - b }')" \
    "$(awk -v a="$(col code_exchange 8)" -v b="$(col authorize 8)" 'BEGIN { printf "%.2f", a - b }')"
fi
grant introspection "$VERIFY_ES256" "ES256 verification (not a grant; same kind of bound)"
for n in $ISOLATION; do
  a50=$(col "iso_${n}_alone" 5) a99=$(col "iso_${n}_alone" 6)
  b50=$(col "iso_${n}_burst" 5) b99=$(col "iso_${n}_burst" 6)
  flows=$(col "iso_${n}_burstflows" 3)
  [[ -n $a50 && -n $b50 ]] || continue
  echo "  isolation, $n at beta, $ISO_RATE/s: p50 $a50 -> $b50 us, p99 $a99 -> $b99 us" \
    "(x$(ratio "$b50" "$a50") and x$(ratio "$b99" "$a99")) during $flows code flows/s at acme"
  h50=$(col "iso_${n}_hashes" 5) h99=$(col "iso_${n}_hashes" 6)
  [[ -n $h50 ]] || continue
  hashes=$(awk -v n="iso_$n" '$1 == n { for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5) }' "$RESULTS.hashes")
  echo "    beside hash-load instead, $hashes argon2id checks/s in a process of its own:" \
    "p50 $a50 -> $h50 us, p99 $a99 -> $h99 us (x$(ratio "$h50" "$a50") and x$(ratio "$h99" "$a99"))"
done
if [[ -s $RESULTS.hashes ]]; then
  echo
  echo "hash-load runs (checks ended in the window, latency from when each was due, its CPU time):"
  sed 's/^/  /' "$RESULTS.hashes"
fi
