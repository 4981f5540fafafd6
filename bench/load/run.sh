#!/usr/bin/env bash
# The load test (issue 9, point 6), by hand: gunicorn + PostgreSQL + Redis on this machine, users added in steps
# until errors appear, then a soak at the sustainable rate. Figures go to bench/RESULTS.md by hand.
#   bash bench/load/run.sh prepare        # once: database guanai_load with data and tokens
#   bash bench/load/run.sh step 50 300 50 # users from 50 to 300 in steps of 50, 2 minutes each
#   bash bench/load/run.sh soak 150 600   # 150 users for 600 s
set -euo pipefail
cd "$(dirname "$0")/../.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/guanai_load}"
export GUANAI_CACHE_URL="${GUANAI_CACHE_URL:-redis://127.0.0.1:6379/5}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/6}"
export GUANAI_TRUSTED_PROXY_COUNT=1
export GUANAI_DEBUG="${GUANAI_DEBUG:-1}"
out=var/load
mkdir -p "$out"
serve() {
  .venv/bin/gunicorn config.wsgi --workers "${WORKERS:-4}" --bind 127.0.0.1:8011 --access-logfile /dev/null \
    --pid "$out/gunicorn.pid" --daemon
  sleep 3
}
stop() { kill "$(cat "$out/gunicorn.pid")" 2>/dev/null || true; }
case "${1:-}" in
  prepare)
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='guanai_load'" | grep -q 1 \
      || createdb -h 127.0.0.1 -U postgres guanai_load
    .venv/bin/python bench/load/prepare.py
    # The dashboards read snapshots, as in production (beat rebuilds them hourly).
    .venv/bin/python manage.py snapshot_indicators --from "$(date -d '-12 months' +%Y-%m)" --to "$(date +%Y-%m)" ;;
  step)
    serve; trap stop EXIT
    for users in $(seq "$2" "$4" "$3"); do
      echo "== $users users"
      .venv/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8011 --headless -u "$users" \
        -r "$users" -t "${STEP_SECONDS:-120}s" --csv "$out/step-$users" --only-summary 2>&1 | tail -n 25 || true
      uptime
    done ;;
  soak)
    serve; trap stop EXIT
    ps -o rss= -p "$(cat "$out/gunicorn.pid")" --ppid "$(cat "$out/gunicorn.pid")" | awk '{s+=$1} END {print "RSS before (KiB):", s}'
    .venv/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8011 --headless -u "$2" -r "$2" \
      -t "$3s" --csv "$out/soak" --only-summary 2>&1 | tail -n 25 || true
    ps -o rss= -p "$(cat "$out/gunicorn.pid")" --ppid "$(cat "$out/gunicorn.pid")" | awk '{s+=$1} END {print "RSS after (KiB):", s}' ;;
  *) echo "usage: $0 prepare | step FROM TO BY | soak USERS SECONDS"; exit 2 ;;
esac
