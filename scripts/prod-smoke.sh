#!/usr/bin/env bash
# Production smoke test: start the stack exactly as README "Production" says — gunicorn, a Celery worker
# and Celery beat on PostgreSQL and Redis — and check that it serves, runs tasks and runs periodic work.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${SMOKE_PORT:-8765}
DB=${SMOKE_DB:-yiwang_smoke}
RUN=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "prod-smoke: FAIL: $*"; for f in "$RUN"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
redis-cli -h 127.0.0.1 -n 5 flushdb >/dev/null

export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
export CELERY_BROKER_URL=redis://127.0.0.1:6379/5
export CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/6
export CACHE_URL=redis://127.0.0.1:6379/7
export SECRET_KEY=smoke-test-secret-key-not-for-production
export YIWANG_FIELD_KEY=smoke-test-field-key
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_COOKIES=0            # plain http on loopback in this test only
export YIWANG_HEARTBEAT_SECONDS=2  # so beat fires within the test
export MEDIA_ROOT=$RUN/media
redis-cli -h 127.0.0.1 -n 7 flushdb >/dev/null

$BIN/python manage.py migrate --noinput -v0
$BIN/python manage.py collectstatic --noinput -v0
$BIN/python manage.py demo_load --scale 0.2 >/dev/null

$BIN/gunicorn config.wsgi --bind 127.0.0.1:$PORT --workers 2 --access-logfile - >"$RUN/gunicorn.log" 2>&1 &
pids+=($!)
$BIN/celery -A config worker --loglevel INFO --concurrency 2 >"$RUN/worker.log" 2>&1 &
pids+=($!)
$BIN/celery -A config beat --loglevel INFO --schedule "$RUN/beat-schedule" >"$RUN/beat.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
health=$(curl -fs "http://127.0.0.1:$PORT/healthz") || fail "healthz did not answer 200"
echo "healthz: $health"
echo "$health" | grep -q '"database": "ok"' || fail "database not ok"
echo "$health" | grep -q '"broker": "ok"' || fail "broker not ok"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/accounts/login/")
[ "$code" = 200 ] || fail "login page answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/static/vendor/leaflet-1.9.4/leaflet.js")
[ "$code" = 200 ] || fail "static files answered $code"

pong=$($BIN/python manage.py shell -c "from yiwang.core.tasks import ping; print(ping.delay().get(timeout=30))" 2>>"$RUN/shell.log" | tail -n 1)
[ "$pong" = pong ] || fail "the Celery worker did not run a task (got '$pong')"
echo "worker: ping -> $pong"

for _ in $(seq 1 40); do
  curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"periodic_last_run": "20' && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"periodic_last_run": "20' || fail "beat did not trigger the heartbeat"
echo "beat: heartbeat ran via worker"

# Rollups are queued with a broker: a case reported now reaches the district's counts once beat's drain ran.
intake='from django.db.models import Sum; from yiwang.dashboards.models import DailyTotal; print(DailyTotal.objects.filter(level=1).aggregate(n=Sum("intake"))["n"] or 0)'
before=$($BIN/python manage.py shell -c "$intake" 2>>"$RUN/shell.log" | tail -n 1)
$BIN/python manage.py shell -c '
from yiwang.accounts.models import Membership
from yiwang.cases.models import Category
from yiwang.cases.services import case_create
m = Membership.objects.filter(role="grid_worker").select_related("user", "area").first()
leaf = Category.objects.filter(children__isnull=True, active=True).first()
case_create(actor=m.user, channel="grid_worker", category=leaf, lon=m.area.centroid_lon, lat=m.area.centroid_lat,
            description="prod-smoke: overflowing bin")' 2>>"$RUN/shell.log" || fail "could not report a case"
for _ in $(seq 1 40); do
  after=$($BIN/python manage.py shell -c "$intake" 2>>"$RUN/shell.log" | tail -n 1)
  [ "$after" -gt "$before" ] && break
  sleep 0.5
done
[ "$after" = $((before + 1)) ] || fail "the rollup drain did not count the new case (intake $before -> $after)"
echo "rollups: new case counted by the queued drain ($before -> $after)"
echo "prod-smoke: OK"
