# shellcheck shell=bash
# Shared helpers for scripts/up and scripts/test. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It changes no shell option; the functions are written to run under
# `set -euo pipefail`. Each one says in one line on stderr what it does
# ("==> ..."), so that stdout stays usable (cargo_bin prints a path).
#
# Local services, as on the project's machines: PostgreSQL on 127.0.0.1:5432
# (superuser `postgres`), Redis on 127.0.0.1:6379. Missing packages are
# installed with apt-get, stopped services are started.

# The repository root, found from this file's own location.
GATEHOUSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export GATEHOUSE_ROOT

GATEHOUSE_PG_HOST=127.0.0.1
GATEHOUSE_PG_PORT=5432
GATEHOUSE_REDIS_HOST=127.0.0.1
GATEHOUSE_REDIS_PORT=6379
# The role that owns the databases and so the schema (see ensure_database).
GATEHOUSE_OWNER_ROLE=gatehouse_owner

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() {
  printf '==> ERROR: %s\n' "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    say "(not root: using sudo for: $*)"
    sudo "$@"
  else
    die "'$*' needs root, and sudo is not available: run it as root, or install sudo"
  fi
}

# ensure_build_deps: the C libraries the build links (OpenSSL, for
# webauthn-rs) and pkg-config, which finds them; installed when missing.
ensure_build_deps() {
  local missing=()
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
  if ((${#missing[@]})); then
    say "installing build dependencies: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# apt_install PKG...: apt-get update, then a non-interactive install.
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get not found: install $* with your system's package manager"
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

pg_ready() {
  pg_isready -q -h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" >/dev/null 2>&1
}

# The installed PostgreSQL major versions, newest last.
pg_versions() {
  local d
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $d ]] || continue
    d=${d#/usr/lib/postgresql/}
    printf '%s\n' "${d%%/*}"
  done | sort -n
}

# ensure_postgres: PostgreSQL installed and accepting connections on
# 127.0.0.1:5432 (waits up to 30 s after starting it).
ensure_postgres() {
  local installed=0
  if ! command -v psql >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1 ||
    [[ -z $(pg_versions) ]]; then
    say "installing PostgreSQL (psql/pg_ctlcluster not found)"
    apt_install postgresql
    installed=1
  fi
  if ! pg_ready; then
    pg_start_cluster
  fi
  say "PostgreSQL is up on $GATEHOUSE_PG_HOST:$GATEHOUSE_PG_PORT"
  if [[ $installed == 1 ]]; then
    pg_trust_gatehouse_roles
  fi
}

# Starts (creating it if there is none) the cluster for our port and waits
# until it accepts connections.
pg_start_cluster() {
  # The cluster to start: the one configured on our port (on the project's
  # machines, `ls /etc/postgresql`/main).
  local version="" cluster="" v c port
  # pg_lsclusters -h: version cluster port status owner datadir logfile
  while read -r v c port _; do
    if [[ $port == "$GATEHOUSE_PG_PORT" ]]; then
      version=$v cluster=$c
      break
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)

  if [[ -z $version ]]; then
    version=$(pg_versions | tail -n 1)
    [[ -n $version ]] || die "PostgreSQL is installed but no server version was found under /usr/lib/postgresql"
    cluster=main
    [[ ! -e /etc/postgresql/$version/main ]] || cluster=gatehouse
    # A local development/CI cluster: trust on loopback, as on the
    # project's machines (the roles have no passwords).
    say "creating PostgreSQL cluster $version/$cluster on port $GATEHOUSE_PG_PORT (none was configured for it; trust auth on loopback)"
    as_root pg_createcluster --port "$GATEHOUSE_PG_PORT" "$version" "$cluster" -- \
      --auth-local=peer --auth-host=trust >/dev/null
  fi

  say "starting PostgreSQL $version/$cluster (it was stopped)"
  # A cluster that is running but not (yet) accepting connections makes
  # `start` fail; the wait below tells the two apart.
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start ||
    warn "pg_ctlcluster $version $cluster start failed; waiting in case it is already starting"

  local i
  for ((i = 0; i < 30; i++)); do
    pg_ready && return 0
    sleep 1
  done
  die "PostgreSQL did not accept connections on $GATEHOUSE_PG_HOST:$GATEHOUSE_PG_PORT within 30 s (see /var/log/postgresql/)"
}

# A PostgreSQL that we have just installed asks for passwords over TCP
# (Debian's default); the project's roles have none. Let them in from
# loopback only, above the other rules, once.
pg_trust_gatehouse_roles() {
  local hba marker='# gatehouse: local development roles (added by scripts/lib.sh)'
  hba=$(psql_super -c 'show hba_file')
  [[ -n $hba ]] || die "could not find pg_hba.conf"
  if as_root grep -qxF "$marker" "$hba"; then
    return 0
  fi
  say "allowing gatehouse_owner and gatehouse_app to log in from loopback without a password ($hba)"
  local tmp
  tmp=$(mktemp)
  {
    printf '%s\n' "$marker"
    printf 'host all gatehouse_owner,gatehouse_app 127.0.0.1/32 trust\n'
    printf 'host all gatehouse_owner,gatehouse_app ::1/128 trust\n\n'
    as_root cat "$hba"
  } >"$tmp"
  as_root cp "$tmp" "$hba"
  rm -f "$tmp"
  psql_super -c 'select pg_reload_conf()' >/dev/null
}

redis_ready() {
  [[ $(redis-cli -h "$GATEHOUSE_REDIS_HOST" -p "$GATEHOUSE_REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

# ensure_redis: Redis installed and answering PING on 127.0.0.1:6379 (waits
# up to 10 s after starting it). It keeps nothing on disk.
ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    say "installing Redis (redis-server/redis-cli not found)"
    apt_install redis-server
  fi
  if redis_ready; then
    say "Redis is up on $GATEHOUSE_REDIS_HOST:$GATEHOUSE_REDIS_PORT"
    return 0
  fi

  local dir=/var/lib/redis logdir=/var/log/redis run=()
  if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    :
  elif command -v sudo >/dev/null 2>&1; then
    say "(not root: using sudo to start Redis)"
    run=(sudo)
  else
    # No way to root: a Redis of our own, with its files under .dev/.
    dir="$GATEHOUSE_ROOT/.dev/redis" logdir="$GATEHOUSE_ROOT/.dev/redis"
    say "(not root and no sudo: running Redis as $(id -un) with its files in .dev/redis)"
  fi
  say "starting Redis on $GATEHOUSE_REDIS_HOST:$GATEHOUSE_REDIS_PORT (it was stopped)"
  "${run[@]}" mkdir -p "$dir" "$logdir"
  "${run[@]}" redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$GATEHOUSE_REDIS_PORT" \
    --save "" --appendonly no --dir "$dir" --logfile "$logdir/ci.log" ||
    warn "redis-server did not start cleanly; waiting in case it is up anyway"

  local i
  for ((i = 0; i < 10; i++)); do
    if redis_ready; then
      say "Redis is up on $GATEHOUSE_REDIS_HOST:$GATEHOUSE_REDIS_PORT"
      return 0
    fi
    sleep 1
  done
  die "Redis did not answer PING on $GATEHOUSE_REDIS_HOST:$GATEHOUSE_REDIS_PORT within 10 s (see $logdir/ci.log)"
}

# psql_super ARGS...: psql as the superuser `postgres`, quiet, unaligned,
# tuples only, stopping at the first error. Over TCP when that needs no
# password, else over the local socket as the `postgres` OS user. SQL comes
# from -c or stdin; never prompts for a password.
psql_super() {
  local opts=(-v ON_ERROR_STOP=1 -X -qAt -d postgres)
  if psql -w -h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" -U postgres -X -qAt -d postgres \
    -c 'select 1' >/dev/null 2>&1; then
    psql -w -h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" -U postgres "${opts[@]}" "$@"
  elif [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    # cd /: the postgres user may not be able to read the current directory.
    (cd / && runuser -u postgres -- psql -p "$GATEHOUSE_PG_PORT" "${opts[@]}" "$@")
  elif command -v sudo >/dev/null 2>&1; then
    (cd / && sudo -u postgres psql -p "$GATEHOUSE_PG_PORT" "${opts[@]}" "$@")
  else
    die "cannot reach PostgreSQL as superuser: TCP login as postgres needs a password, and we are neither root nor have sudo (set PGPASSWORD, or run as root)"
  fi
}

# ensure_database NAME: the owner role gatehouse_owner (LOGIN CREATEROLE
# NOSUPERUSER NOBYPASSRLS) and database NAME owned by it. Idempotent. The
# server's own role (gatehouse_app) is created by `gatehouse migrate`.
ensure_database() {
  local db=${1:?usage: ensure_database NAME}
  local role=$GATEHOUSE_OWNER_ROLE

  if [[ $(psql_super -v role="$role" <<<"select 1 from pg_roles where rolname = :'role';") != 1 ]]; then
    say "creating role $role"
  fi
  # Always (re)assert the attributes: the schema owner must not see past
  # row-level security, and must be able to create the server's role.
  psql_super -v role="$role" <<'SQL'
select format('create role %I', :'role')
 where not exists (select 1 from pg_roles where rolname = :'role')
\gexec
select format('alter role %I login createrole nosuperuser nobypassrls', :'role')
\gexec
SQL

  local owner
  owner=$(psql_super -v db="$db" <<<"select pg_get_userbyid(datdba) from pg_database where datname = :'db';")
  if [[ -z $owner ]]; then
    say "creating database $db (owner $role)"
    psql_super -v db="$db" -v role="$role" <<'SQL'
select format('create database %I owner %I', :'db', :'role')
 where not exists (select 1 from pg_database where datname = :'db')
\gexec
SQL
  elif [[ $owner != "$role" ]]; then
    say "database $db is owned by $owner: giving it to $role"
    psql_super -v db="$db" -v role="$role" <<'SQL'
select format('alter database %I owner to %I', :'db', :'role')
\gexec
SQL
  else
    say "database $db exists (owner $role)"
  fi

  # The servers and tests connect over TCP as this role without a password.
  if ! psql -w -h "$GATEHOUSE_PG_HOST" -p "$GATEHOUSE_PG_PORT" -U "$role" -d "$db" -X -qAt \
    -c 'select 1' >/dev/null 2>&1; then
    warn "cannot log in as $role to $db on $GATEHOUSE_PG_HOST:$GATEHOUSE_PG_PORT without a password;" \
      "allow it in pg_hba.conf (e.g. 'host all gatehouse_owner,gatehouse_app 127.0.0.1/32 trust'" \
      "above the other host lines, then reload) or put passwords in the GATEHOUSE_*DATABASE*_URL variables"
  fi
}

# reset_database NAME: drops database NAME (disconnecting its sessions) and
# creates it again, empty, owned by gatehouse_owner.
reset_database() {
  local db=${1:?usage: reset_database NAME}
  say "resetting database $db (drop and create)"
  psql_super -v db="$db" <<'SQL'
select format('drop database if exists %I with (force)', :'db')
\gexec
SQL
  ensure_database "$db"
}

# ensure_master_key: development only. Exports GATEHOUSE_MASTER_KEY, read
# from .dev/master.key at the repository root (git-ignored), which is created
# (mode 600) with 32 random bytes the first time. A key already in the
# environment is kept. Production keys are never made here.
ensure_master_key() {
  if [[ -n ${GATEHOUSE_MASTER_KEY:-} ]]; then
    say "using GATEHOUSE_MASTER_KEY from the environment"
    return 0
  fi
  if [[ ${GATEHOUSE_ENVIRONMENT:-development} == production ]]; then
    die "GATEHOUSE_ENVIRONMENT=production needs GATEHOUSE_MASTER_KEY (base64 of 32 random bytes) from your secret store; no key is generated for production"
  fi
  local file="$GATEHOUSE_ROOT/.dev/master.key"
  if [[ ! -s $file ]]; then
    say "creating a development master key in .dev/master.key"
    mkdir -p "$GATEHOUSE_ROOT/.dev"
    (
      umask 077
      head -c 32 /dev/urandom | base64 | tr -d '\n' >"$file.tmp"
      printf '\n' >>"$file.tmp"
    )
    chmod 600 "$file.tmp"
    mv -f "$file.tmp" "$file"
  else
    say "using the development master key in .dev/master.key"
  fi
  local key
  key=$(tr -d '[:space:]' <"$file")
  if [[ $(printf '%s' "$key" | base64 -d 2>/dev/null | wc -c) -ne 32 ]]; then
    die ".dev/master.key is not the base64 of 32 bytes: delete it and run again to make a new one (data encrypted with the old key becomes unreadable)"
  fi
  GATEHOUSE_MASTER_KEY=$key
  export GATEHOUSE_MASTER_KEY
}

# cargo_bin [NAME [PROFILE]]: prints the path of a binary built by cargo
# (default: gatehouse, debug), honouring CARGO_TARGET_DIR.
cargo_bin() {
  local name=${1:-gatehouse} profile=${2:-debug}
  local dir=${CARGO_TARGET_DIR:-${CARGO_BUILD_TARGET_DIR:-$GATEHOUSE_ROOT/target}}
  # A relative target dir is relative to where cargo runs: the root here.
  [[ $dir == /* ]] || dir="$GATEHOUSE_ROOT/$dir"
  printf '%s/%s/%s\n' "$dir" "$profile" "$name"
}
