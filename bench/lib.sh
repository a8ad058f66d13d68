# shellcheck shell=bash
# Helpers shared by bench/load.sh and bench/startup.sh. Source it after
# scripts/lib.sh:
#
#   source "$GATEHOUSE_ROOT/bench/lib.sh"
#
# A server started here listens on a loopback port chosen by the kernel
# (GATEHOUSE_LISTEN=127.0.0.1:0) and publishes its events under its own
# Redis prefix, so that it never disturbs a development server or the tests.

BENCH_BIN=""
BENCH_PG="$GATEHOUSE_PG_HOST:$GATEHOUSE_PG_PORT"
BENCH_REDIS_PREFIX=gatehouse-bench
# Set by bench_build, bench_spawn_server and bench_wait_for.
BENCH_PID=""
BENCH_PORT=""
BENCH_LOG=""
BENCH_OUT=""
BENCH_T0=0
BENCH_READY_US=0
BENCH_HTTP_STATUS=000

# bench_build: the release binary, as deployed. Prints nothing on stdout.
# Like every cargo command here it honours CARGO_TARGET_DIR (a separate
# target directory keeps a benchmark build from waiting on another build's
# lock).
bench_build() {
  say "building the release binary (cargo build --release -p gatehouse-web --bin gatehouse)"
  (cd "$GATEHOUSE_ROOT" && SQLX_OFFLINE=true cargo build --release -p gatehouse-web --bin gatehouse)
  BENCH_BIN=$(cargo_bin gatehouse release)
  [[ -x $BENCH_BIN ]] || die "the build did not produce $BENCH_BIN"
}

# bench_build_tool: the HTTP load generator bench/src/bin/oidc-load.rs,
# the signing-cost probe bench/src/bin/sign-cost.rs and the hashing
# neighbour bench/src/bin/hash-load.rs, release builds. Sets
# BENCH_LOAD_BIN, BENCH_SIGN_BIN and BENCH_HASH_BIN. Prints nothing on stdout.
BENCH_LOAD_BIN=""
BENCH_SIGN_BIN=""
BENCH_HASH_BIN=""
bench_build_tool() {
  say "building the load tools (cargo build --release -p gatehouse-bench --bin oidc-load --bin sign-cost --bin hash-load)"
  (cd "$GATEHOUSE_ROOT" && SQLX_OFFLINE=true cargo build --release -p gatehouse-bench --bin oidc-load --bin sign-cost --bin hash-load)
  BENCH_LOAD_BIN=$(cargo_bin oidc-load release)
  BENCH_SIGN_BIN=$(cargo_bin sign-cost release)
  BENCH_HASH_BIN=$(cargo_bin hash-load release)
  local bin
  for bin in "$BENCH_LOAD_BIN" "$BENCH_SIGN_BIN" "$BENCH_HASH_BIN"; do
    [[ -x $bin ]] || die "the build did not produce $bin"
  done
}

# bench_use_database NAME: points the GATEHOUSE_* database variables at NAME.
bench_use_database() {
  local db=${1:?usage: bench_use_database NAME}
  export GATEHOUSE_DATABASE_ADMIN_URL="postgres://$GATEHOUSE_OWNER_ROLE@$BENCH_PG/$db"
  export GATEHOUSE_DATABASE_URL="postgres://gatehouse_app@$BENCH_PG/$db"
  export GATEHOUSE_REDIS_URL="redis://$GATEHOUSE_REDIS_HOST:$GATEHOUSE_REDIS_PORT"
  export GATEHOUSE_REDIS_PREFIX=$BENCH_REDIS_PREFIX
  export GATEHOUSE_ENVIRONMENT=development
  export GATEHOUSE_LOG=warn
  # Signing keys are sealed under the master key. The bench databases are
  # reset on every run, so a throw-away key for this run is enough.
  if [[ -z ${GATEHOUSE_MASTER_KEY:-} ]]; then
    GATEHOUSE_MASTER_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
    export GATEHOUSE_MASTER_KEY
  fi
}

# bench_fresh_database NAME: drops and creates NAME, then migrates it.
bench_fresh_database() {
  local db=${1:?usage: bench_fresh_database NAME}
  reset_database "$db"
  bench_use_database "$db"
  say "gatehouse migrate ($db)"
  "$BENCH_BIN" migrate >&2
}

# bench_psql_owner DB ARGS...: psql as the schema owner on DB.
bench_psql_owner() {
  local db=${1:?usage: bench_psql_owner DB ARGS...}
  shift
  psql -w -h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" -U "$GATEHOUSE_OWNER_ROLE" -d "$db" \
    -v ON_ERROR_STOP=1 -X -qAt "$@"
}

# bench_now_us: wall-clock time in microseconds, without forking.
bench_now_us() { printf '%s\n' "${EPOCHREALTIME/[.,]/}"; }

# bench_spawn_server: starts `gatehouse serve` in the background with the
# current GATEHOUSE_* environment, on a port the kernel picks. Sets
# BENCH_PID, and BENCH_T0 (microseconds) just before the start; the port is
# learnt from the server's stdout (bench_port_of_log).
bench_spawn_server() {
  BENCH_LOG=$(mktemp -t gatehouse-bench-err.XXXXXX)
  BENCH_OUT=$(mktemp -t gatehouse-bench-out.XXXXXX)
  BENCH_PORT=""
  BENCH_T0=${EPOCHREALTIME/[.,]/}
  GATEHOUSE_LISTEN=127.0.0.1:0 GATEHOUSE_PUBLIC_URL=http://127.0.0.1 \
    "$BENCH_BIN" serve >"$BENCH_OUT" 2>"$BENCH_LOG" &
  BENCH_PID=$!
}

# bench_port_of_log: sets BENCH_PORT from the one line the server prints on
# stdout ("gatehouse listening on http://127.0.0.1:PORT"); returns 1 while
# it has not appeared. Forks nothing.
bench_port_of_log() {
  local line=""
  read -r line <"$BENCH_OUT" || true
  [[ $line =~ ^gatehouse\ listening\ on\ http://127\.0\.0\.1:([0-9]+) ]] || return 1
  BENCH_PORT=${BASH_REMATCH[1]}
}

# bench_get_status PATH: sets BENCH_HTTP_STATUS to the status of GET PATH on
# the server ("000" when it does not answer). Plain bash over /dev/tcp, so
# polling forks no process.
bench_get_status() {
  local path=${1:?usage: bench_get_status PATH} fd line=""
  BENCH_HTTP_STATUS=000
  exec {fd}<>"/dev/tcp/127.0.0.1/$BENCH_PORT" || return 0
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&"$fd"
  read -r -t 5 line <&"$fd" || true
  exec {fd}>&-
  [[ $line =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]] && BENCH_HTTP_STATUS=${BASH_REMATCH[1]}
  return 0
}

# bench_wait_for PATH [TIMEOUT_S]: polls GET PATH every 10 ms until it
# answers 200, then sets BENCH_READY_US to the microseconds since
# BENCH_T0. Dies after TIMEOUT_S seconds (default 30) or if the server exits.
bench_wait_for() {
  local path=${1:?usage: bench_wait_for PATH [TIMEOUT_S]} limit=${2:-30} now
  local deadline=$((BENCH_T0 + limit * 1000000))
  while :; do
    if [[ -n $BENCH_PORT ]] || bench_port_of_log; then
      bench_get_status "$path" 2>/dev/null
      if [[ $BENCH_HTTP_STATUS == 200 ]]; then
        now=${EPOCHREALTIME/[.,]/}
        # shellcheck disable=SC2034 # read by the sourcing script
        BENCH_READY_US=$((now - BENCH_T0))
        return 0
      fi
    fi
    if ! kill -0 "$BENCH_PID" 2>/dev/null; then
      cat "$BENCH_LOG" >&2
      die "the server exited before $path answered 200"
    fi
    now=${EPOCHREALTIME/[.,]/}
    ((now < deadline)) || {
      cat "$BENCH_LOG" >&2
      die "$path did not answer 200 within ${limit} s"
    }
    sleep 0.01
  done
}

# bench_rss_kib: the server's resident set size (VmRSS), in KiB.
bench_rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$BENCH_PID/status"
}

# bench_stop_server: SIGTERM (graceful shutdown), then SIGKILL after 10 s.
bench_stop_server() {
  [[ -n $BENCH_PID ]] || return 0
  if kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$BENCH_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$BENCH_PID" 2>/dev/null || true
  fi
  wait "$BENCH_PID" 2>/dev/null || true
  BENCH_PID=""
  rm -f "$BENCH_LOG" "$BENCH_OUT"
  BENCH_LOG="" BENCH_OUT=""
}

# bench_median N...: the median of integers (the lower middle for an even count).
bench_median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# bench_machine: one line describing the machine.
bench_machine() {
  local cpu mem os
  cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  os=$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-unknown}")
  printf '%s CPUs (%s), %s RAM, %s, kernel %s\n' "$(nproc)" "$cpu" "$mem" "$os" "$(uname -r)"
}

# bench_load: the 1-minute load average.
bench_load() { cut -d' ' -f1 /proc/loadavg; }

# bench_cpu_us PID...: the summed user + system CPU time of the processes, in
# microseconds, from /proc/PID/stat; a process that is gone counts 0.
bench_cpu_us() {
  local ticks pid stat sum=0
  ticks=$(getconf CLK_TCK)
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) } # fields from 3 on; utime and stime are fields 14 and 15
    sum=$(awk -v s="$sum" -v t="$ticks" '{ printf "%d", s + ($12 + $13) * 1000000 / t }' <<<"$stat")
  done
  printf '%s\n' "$sum"
}

# bench_wait_quiet THRESHOLD LIMIT_S: waits until the 1-minute load average
# is below THRESHOLD, polling every 5 s, for at most LIMIT_S seconds.
# Returns 1 (after a warning) when the limit passed first; 0 otherwise.
bench_wait_quiet() {
  local threshold=${1:?usage: bench_wait_quiet THRESHOLD LIMIT_S} limit=${2:?usage: bench_wait_quiet THRESHOLD LIMIT_S}
  local start=$SECONDS said=0
  while awk -v l="$(bench_load)" -v t="$threshold" 'BEGIN { exit !(l >= t) }'; do
    if ((SECONDS - start >= limit)); then
      warn "load average still $(bench_load) after ${limit} s of waiting: measuring anyway"
      return 1
    fi
    if ((said == 0)); then
      say "waiting for the 1-minute load average ($(bench_load)) to fall below $threshold (at most ${limit} s)"
      said=1
    fi
    sleep 5
  done
  return 0
}
