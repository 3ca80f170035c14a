#!/usr/bin/env bash
# The load test (bench/load_test.py) in one command, on throw-away data:
#
#   bench/load_run.sh prod     [USERS=50] [SECONDS=300] [load_test.py options...]
#   bench/load_run.sh embedded [USERS=8]  [SECONDS=300] [load_test.py options...]
#
# e.g. bench/load_run.sh prod 50 300 --scientist-pause 3,6   (the stress mix)
#
# prod: PostgreSQL and Redis from .ci/services.sh (started if they are not running), a
# fresh database and Redis db 5, DJANGO_DEBUG=false behind a simulated TLS proxy
# (X-Forwarded-Proto: https), the demo seeded explicitly (--allow-production: the load
# test logs in as the demo users), then `make prod` (gunicorn + heavy and light Celery
# workers + beat).
# embedded: `make run` (SQLite + the filesystem broker, web + worker + beat) on a SQLite
# file and a broker folder of its own.
# Everything it started is stopped (and the database dropped) at the end; the figures are
# printed and written to bench/out/load_test-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-prod}"
case "$MODE" in
  prod) USERS="${2:-50}" ;;
  embedded) USERS="${2:-8}" ;;
  *) echo "usage: bench/load_run.sh prod|embedded [USERS] [SECONDS]" >&2; exit 2 ;;
esac
SECONDS_RUN="${3:-300}"
shift $(( $# < 3 ? $# : 3 ))
EXTRA=("$@")
PY=.venv/bin/python
PORT="${LOAD_PORT:-8190}"
WORK="$(mktemp -d -t governance-load.XXXXXX)"
DB="governance_load_$(date +%s)"
PROD_PID=""
started_services=0
ADMIN_URL=""

database() {  # database create|drop
  "$PY" - "$ADMIN_URL" "$DB" "$1" <<'PY'
import sys

import psycopg

url, name, what = sys.argv[1:]
with psycopg.connect(url, autocommit=True) as conn:
    if what == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
PY
}

cleanup() {
  set +e
  if [ -n "$PROD_PID" ] && kill -0 "$PROD_PID" 2>/dev/null; then
    kill -INT -- "-$PROD_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$PROD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$PROD_PID" 2>/dev/null
  fi
  [ -n "$ADMIN_URL" ] && database drop
  [ "$started_services" = 1 ] && bash .ci/services.sh stop
  echo "log of the run: $WORK/run.log"
}
trap cleanup EXIT

# Wait until every line pattern given is in the run's log (or the runner has exited).
wait_for() {
  for _ in $(seq 1 900); do
    local missing=0
    for pattern in "$@"; do grep -qE "$pattern" "$WORK/run.log" || missing=1; done
    [ "$missing" = 0 ] && return 0
    kill -0 "$PROD_PID" 2>/dev/null || { tail -n 40 "$WORK/run.log"; exit 1; }
    sleep 0.5
  done
  echo "not up within 450 s" >&2
  tail -n 40 "$WORK/run.log"
  exit 1
}

export DJANGO_MEDIA_ROOT="$WORK/media" CELERY_BEAT_SCHEDULE_FILENAME="$WORK/beat"
export AUDIT_ANCHOR_LOG="$WORK/anchors.log" AUDIT_ANCHOR_KEY_FILE="$WORK/anchor.key"
export DJANGO_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend

if [ "$MODE" = embedded ]; then
  export DATABASE_URL="sqlite:///$WORK/db.sqlite3" CELERY_BROKER_FOLDER="$WORK/broker"
  unset CELERY_BROKER_URL DJANGO_DEBUG
  echo "== make run (SQLite + filesystem broker) on 127.0.0.1:$PORT"
  setsid make run PORT="$PORT" </dev/null >"$WORK/run.log" 2>&1 &
  PROD_PID=$!
  wait_for "^devrun +\| ready: " "^worker +\|.* ready\.$" "^beat +\|.*beat: Starting"
  echo "== load: $USERS users for $SECONDS_RUN s"
  "$PY" bench/load_test.py --url "http://127.0.0.1:$PORT" --users "$USERS" \
    --duration "$SECONDS_RUN" --label "make run (SQLite + filesystem broker)" ${EXTRA[@]+"${EXTRA[@]}"}
  exit $?
fi

if ! bash .ci/services.sh status >/dev/null 2>&1; then
  bash .ci/services.sh start
  started_services=1
fi
eval "$(bash .ci/services.sh env)"
ADMIN_URL="$DATABASE_URL"
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
export CELERY_BROKER_URL="${CELERY_BROKER_URL%/*}/5"
export DJANGO_CACHE_URL="${CELERY_BROKER_URL%/*}/6"  # the shared cache (figures, gate answers)
export DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_TRUST_X_FORWARDED_PROTO=true
DJANGO_SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export DJANGO_SECRET_KEY DJANGO_STATIC_ROOT="$WORK/static"

database create
echo "== migrate and seed the demo into $DB"
"$PY" manage.py migrate --no-input >"$WORK/migrate.log"
"$PY" manage.py seed_demo --allow-production >"$WORK/seed.log"

echo "== make prod on 127.0.0.1:$PORT"
setsid make prod PORT="$PORT" </dev/null >"$WORK/run.log" 2>&1 &
PROD_PID=$!
wait_for "^prod +\| ready: " "^heavy +\|.* heavy@\S+ ready\.$" "^light +\|.* light@\S+ ready\.$"
grep -E "^prod .*(ready|workers|Booting)" "$WORK/run.log" | head -n 4

echo "== load: $USERS users for $SECONDS_RUN s"
"$PY" bench/load_test.py --url "http://127.0.0.1:$PORT" --users "$USERS" \
  --duration "$SECONDS_RUN" --behind-proxy --label "make prod (PostgreSQL + Redis)" \
  ${EXTRA[@]+"${EXTRA[@]}"}
