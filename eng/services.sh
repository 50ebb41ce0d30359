#!/usr/bin/env bash
# Local, loopback-only services for Resilience's tests, benchmarks and spike drill.
#
#   eng/services.sh up      install what is missing, then start PostgreSQL 15 + pgvector, PgBouncer, Redis
#   eng/services.sh down    stop exactly what `up` started (by pid file), nothing else
#   eng/services.sh env     print the connection settings as shell `export` lines
#   eng/services.sh status  say which of the three are running; exit 0 only when all are
#   eng/services.sh run CMD...  run CMD with the RESILIENCE_* variables set: when they are already set, start nothing;
#                               otherwise `up` first and, if this call started them, `down` afterwards
#
# Everything lives under $RESILIENCE_STATE_DIR (default /tmp/resilience-services).
# Must run as root on Debian/Ubuntu for the apt installs; the servers themselves run as `postgres`.
set -euo pipefail

STATE_DIR="${RESILIENCE_STATE_DIR:-/tmp/resilience-services}"
PG_PORT="${RESILIENCE_PG_PORT:-55432}"
BOUNCER_PORT="${RESILIENCE_PGBOUNCER_PORT:-56432}"
REDIS_PORT="${RESILIENCE_REDIS_PORT:-56379}"
PG_MAX_CONNECTIONS="${RESILIENCE_PG_MAX_CONNECTIONS:-100}"
PG_BIN=/usr/lib/postgresql/15/bin
DB=resilience
DB_USER=resilience
DB_PASSWORD=resilience

PG_DATA="$STATE_DIR/pg"
BOUNCER_DIR="$STATE_DIR/pgbouncer"
REDIS_DIR="$STATE_DIR/redis"

log() { printf 'services: %s\n' "$*" >&2; }
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

print_env() {
  cat <<EOF
export RESILIENCE_PG="Host=127.0.0.1;Port=$PG_PORT;Database=$DB;Username=$DB_USER;Password=$DB_PASSWORD"
export RESILIENCE_PGBOUNCER="Host=127.0.0.1;Port=$BOUNCER_PORT;Database=$DB;Username=$DB_USER;Password=$DB_PASSWORD"
export RESILIENCE_REDIS="127.0.0.1:$REDIS_PORT"
EOF
}

# A pid file names a live server only if that pid still runs one of ours (a stale file after a reboot or a kill -9
# may name an unrelated process that reused the pid).
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid="$(head -n1 "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  grep -qE 'postgres|pgbouncer|redis' "/proc/$pid/comm" 2>/dev/null || return 1
  # A killed daemon whose parent never reaps it stays a zombie (state Z): it serves nothing.
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]
}

# ---------------------------------------------------------------- install
apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  # policy-rc.d keeps the Debian packages from starting their own system-wide daemons.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  rm -f /usr/sbin/policy-rc.d
}

install_pgvector() {
  local ext_dir
  ext_dir="$("$PG_BIN/pg_config" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/extension"
  [ -f "$ext_dir/vector.control" ] && return 0
  apt_install postgresql-server-dev-15 build-essential dpkg-dev
  local src_list=/etc/apt/sources.list.d/resilience-trixie-src.sources
  if [ ! -f "$src_list" ]; then
    log "adding Debian trixie as a source-only apt entry (for pgvector)"
    cat > "$src_list" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq >&2
  fi
  local build_dir
  build_dir="$(mktemp -d /tmp/resilience-pgvector.XXXXXX)"
  log "building pgvector from source in $build_dir"
  (cd "$build_dir" && apt-get source -qq pgvector >&2 2>/dev/null || apt-get source pgvector >&2)
  local src
  src="$(find "$build_dir" -maxdepth 1 -mindepth 1 -type d -name 'pgvector-*' | head -n1)"
  [ -n "$src" ] || { log "apt-get source pgvector produced no source tree"; exit 1; }
  make -s -C "$src" PG_CONFIG="$PG_BIN/pg_config" -j"$(nproc)" >&2
  make -s -C "$src" PG_CONFIG="$PG_BIN/pg_config" install >&2
  rm -rf "$build_dir"
}

install_all() {
  [ "$(id -u)" -eq 0 ] || { log "run as root: the apt installs and 'setpriv' need it"; exit 1; }
  apt_install postgresql-15 postgresql-client-15 pgbouncer redis-server util-linux
  install_pgvector
}

# ---------------------------------------------------------------- start
start_postgres() {
  if pid_alive "$PG_DATA/postmaster.pid"; then return 0; fi
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initialising a PostgreSQL 15 cluster in $PG_DATA"
    rm -rf "$PG_DATA"
    install -d -o postgres -g postgres -m 700 "$PG_DATA"
    local pwfile="$STATE_DIR/.pgsuperpw"
    printf 'postgres\n' > "$pwfile" && chown postgres "$pwfile"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
max_connections = $PG_MAX_CONNECTIONS
unix_socket_directories = '$PG_DATA'
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT (max_connections $PG_MAX_CONNECTIONS)"
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 start >/dev/null
  local psql=("$PG_BIN/psql" -h "$PG_DATA" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$(as_postgres "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]; then
    as_postgres "${psql[@]}" -d postgres -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'" \
      -c "GRANT pg_read_all_stats, pg_signal_backend TO $DB_USER"
  fi
  if [ "$(as_postgres "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    as_postgres "${psql[@]}" -d postgres -c "CREATE DATABASE $DB OWNER $DB_USER"
  fi
  PGOPTIONS="-c client_min_messages=warning" as_postgres "${psql[@]}" -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS vector"
}

start_pgbouncer() {
  if pid_alive "$BOUNCER_DIR/pgbouncer.pid"; then return 0; fi
  install -d -o postgres -g postgres -m 700 "$BOUNCER_DIR"
  cat > "$BOUNCER_DIR/pgbouncer.ini" <<EOF
[databases]
$DB = host=127.0.0.1 port=$PG_PORT dbname=$DB

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = transaction
max_client_conn = 5000
default_pool_size = 20
max_db_connections = 40
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
admin_users = $DB_USER
stats_users = $DB_USER
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
EOF
  printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > "$BOUNCER_DIR/userlist.txt"
  chown postgres:postgres "$BOUNCER_DIR/pgbouncer.ini" "$BOUNCER_DIR/userlist.txt"
  chmod 600 "$BOUNCER_DIR/userlist.txt"
  log "starting PgBouncer (transaction mode) on 127.0.0.1:$BOUNCER_PORT"
  ( ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; as_postgres /usr/sbin/pgbouncer -d -q "$BOUNCER_DIR/pgbouncer.ini" )
  wait_for_port "$BOUNCER_PORT" PgBouncer
}

start_redis() {
  if pid_alive "$REDIS_DIR/redis.pid"; then return 0; fi
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT (no persistence)"
  ( ulimit -n 65536 2>/dev/null || true
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --dir "$REDIS_DIR" \
      --logfile "$REDIS_DIR/redis.log" --maxclients 10000 --protected-mode yes >/dev/null )
  wait_for_port "$REDIS_PORT" Redis
}

wait_for_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$2 did not open 127.0.0.1:$1; see its log under $STATE_DIR"
  exit 1
}

# ---------------------------------------------------------------- stop
stop_all() {
  if pid_alive "$REDIS_DIR/redis.pid"; then
    log "stopping Redis"; kill "$(cat "$REDIS_DIR/redis.pid")"
  fi
  if pid_alive "$BOUNCER_DIR/pgbouncer.pid"; then
    log "stopping PgBouncer"; kill "$(cat "$BOUNCER_DIR/pgbouncer.pid")"
  fi
  if pid_alive "$PG_DATA/postmaster.pid"; then
    log "stopping PostgreSQL"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
  for pidfile in "$REDIS_DIR/redis.pid" "$BOUNCER_DIR/pgbouncer.pid"; do
    for _ in $(seq 1 50); do pid_alive "$pidfile" || break; sleep 0.1; done
  done
}

status() {
  local ok=0
  pid_alive "$PG_DATA/postmaster.pid" && echo "postgresql: running on 127.0.0.1:$PG_PORT" || { echo "postgresql: stopped"; ok=1; }
  pid_alive "$BOUNCER_DIR/pgbouncer.pid" && echo "pgbouncer: running on 127.0.0.1:$BOUNCER_PORT" || { echo "pgbouncer: stopped"; ok=1; }
  pid_alive "$REDIS_DIR/redis.pid" && echo "redis: running on 127.0.0.1:$REDIS_PORT" || { echo "redis: stopped"; ok=1; }
  return $ok
}

run_with_services() {
  if [ -n "${RESILIENCE_PG:-}${RESILIENCE_PGBOUNCER:-}${RESILIENCE_REDIS:-}" ]; then
    log "using the servers named by RESILIENCE_* (starting nothing)"
    exec "$@"
  fi
  local started=""
  status >/dev/null 2>&1 || started=1
  if [ -n "$started" ]; then trap stop_all EXIT; fi
  install_all; start_postgres; start_pgbouncer; start_redis
  eval "$(print_env)"
  local rc=0
  "$@" || rc=$?
  exit $rc
}

case "${1:-}" in
  run) shift; [ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }; run_with_services "$@" ;;
  up) install_all; start_postgres; start_pgbouncer; start_redis; log "all services up"; print_env ;;
  down) stop_all ;;
  env) print_env ;;
  status) status ;;
  *) echo "usage: $0 up|down|env|status|run CMD..." >&2; exit 2 ;;
esac
