#!/usr/bin/env bash
# .ci/services.sh - install / start / stop the PostgreSQL and Redis servers that CI (and a
# developer who wants them) runs the test suite against, on a bare Debian machine with no
# Docker and no systemd. Idempotent: every sub-command can be run repeatedly.
#
#   .ci/services.sh install   # apt-get install postgresql redis-server (skips what is present)
#   .ci/services.sh start     # init (first time) + start both, create role/db, wait until ready
#   .ci/services.sh status
#   .ci/services.sh env       # print DATABASE_URL / CELERY_BROKER_URL lines: eval "$(... env)"
#   .ci/services.sh stop      # fast shutdown of both (keeps data; 'clean' also wipes it)
#   .ci/services.sh clean     # stop + delete the state dir
#
# Works as root (runs PostgreSQL as the 'postgres' system user via runuser) or as an
# ordinary user. Never touches the Debian "main" cluster or /etc/postgresql: all state
# lives in $CI_SERVICES_DIR (under /tmp by default, so that 'postgres' can traverse it).
# Ports are not the usual ones so that servers already running on a developer's machine
# are left alone.
set -euo pipefail

STATE_DIR="${CI_SERVICES_DIR:-/tmp/governance-ci-services}"   # must be traversable by user 'postgres' when run as root
PG_PORT="${PG_PORT:-55432}"
PG_DB="${PG_DB:-governance}"
PG_USER="${PG_USER:-governance}"
PG_PASSWORD="${PG_PASSWORD:-governance}"
REDIS_PORT="${REDIS_PORT:-56379}"

PG_DATA="$STATE_DIR/pg/data"
PG_SOCK="$STATE_DIR/pg/sock"
PG_LOG="$STATE_DIR/pg/postgres.log"
REDIS_DIR="$STATE_DIR/redis"

log() { printf '[services] %s\n' "$*" >&2; }

pg_bindir() {
  # Newest installed server version, e.g. /usr/lib/postgresql/15/bin
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { log "PostgreSQL server not installed (run: $0 install)"; exit 1; }
  echo "$d"
}

# Run a command as the PostgreSQL OS user: 'postgres' when we are root
# (initdb/postgres refuse to run as root), otherwise the current user.
as_pg() {
  # cd /: avoids 'could not change directory to "/root"' noise from the postgres user
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_admin() {  # superuser psql over the private unix socket
  as_pg "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

cmd_install() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if [ ${#need[@]} -eq 0 ]; then log "postgresql + redis-server already installed"; return; fi
  [ "$(id -u)" -eq 0 ] || { log "install needs root"; exit 1; }
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Docker-style images ship /usr/sbin/policy-rc.d (exit 101) so nothing is auto-started.
  # On a VM with systemd (or a bare chroot) the packages start the Debian 'main' cluster on
  # 5432 and redis-server on 6379, which CI does not use (and which would clash with a run
  # that sets PG_PORT=5432 or REDIS_PORT=6379): stop them.
  [ "${CI_KEEP_DEBIAN_SERVICES:-0}" = 1 ] && return
  if [[ " ${need[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
    [ -d /run/systemd/system ] && systemctl disable --now -q postgresql 2>/dev/null || true
    pg_lsclusters -h | while read -r ver name port status _; do
      if [ "$status" = online ]; then log "stopping auto-started cluster $ver/$name (port $port)"; pg_ctlcluster "$ver" "$name" stop || true; fi
    done
  fi
  if [[ " ${need[*]} " == *" redis-server "* ]] && [ "$(redis-cli -p 6379 ping 2>/dev/null || true)" = "PONG" ]; then
    log "stopping auto-started redis-server (port 6379)"
    if [ -d /run/systemd/system ]; then systemctl disable --now -q redis-server || true
    else service redis-server stop >/dev/null 2>&1 || redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true; fi
  fi
}

pg_running() { as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start_pg() {
  local bin; bin=$(pg_bindir)
  mkdir -p "$STATE_DIR/pg" "$PG_SOCK"
  if [ "$(id -u)" -eq 0 ]; then
    chmod 755 "$STATE_DIR"; chown -R postgres:postgres "$STATE_DIR/pg"
  fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "initdb $PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  fi
  if pg_running; then
    log "postgres already running on port $PG_PORT"
  else
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # fsync=off etc.: CI speed; the data is throw-away.
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start -o \
      "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  fi
  # Role + database (idempotent). CREATEDB is required: Django's test runner creates test_<db>.
  psql_admin -v u="$PG_USER" -v p="$PG_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'u', :'p') \gexec
SQL
  psql_admin -v u="$PG_USER" -v d="$PG_DB" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
SQL
  PGPASSWORD="$PG_PASSWORD" "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d "$PG_DB" -U "$PG_USER"
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

start_redis() {
  mkdir -p "$REDIS_DIR"
  if [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ]; then
    log "redis already running on port $REDIS_PORT"; return
  fi
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --save '' --appendonly no
  for _ in $(seq 1 50); do
    [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ] && return
    sleep 0.1
  done
  log "redis did not answer PING; log:"; tail -n 20 "$REDIS_DIR/redis.log" >&2; exit 1
}

cmd_env() {
  echo "export DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
  echo "export CELERY_BROKER_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

cmd_start() { start_pg; start_redis; log "ready"; cmd_env; }

cmd_stop() {
  if [ -s "$PG_DATA/PG_VERSION" ] && pg_running; then
    log "stopping postgres"; as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
  if [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ]; then
    log "stopping redis"; redis_cli shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ] || break; sleep 0.1; done
  fi
}

cmd_status() {
  local rc=0
  if [ -s "$PG_DATA/PG_VERSION" ] && pg_running; then echo "postgres: running (port $PG_PORT)"; else echo "postgres: stopped"; rc=1; fi
  if [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ]; then echo "redis: running (port $REDIS_PORT)"; else echo "redis: stopped"; rc=1; fi
  return $rc
}

case "${1:-}" in
  install) cmd_install ;;
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  status)  cmd_status ;;
  env)     cmd_env ;;
  clean)   cmd_stop; rm -rf "$STATE_DIR"; log "removed $STATE_DIR" ;;
  *) echo "usage: $0 install|start|stop|status|env|clean" >&2; exit 2 ;;
esac
