#!/usr/bin/env bash
# The load test (issue 9, point 6), by hand: gunicorn + PostgreSQL + Redis on this machine, users added in steps
# until errors appear, then a soak at the sustainable rate. Figures go to bench/RESULTS.md by hand.
#   bash bench/load/run.sh prepare        # once: database guanai_load with data and tokens
#   bash bench/load/run.sh step 50 300 50 # users from 50 to 300 in steps of 50, 2 minutes each
#   bash bench/load/run.sh soak 150 600   # 150 users for 600 s, sampling gunicorn's memory every 30 s
#   bash bench/load/run.sh per-request    # what each request of the mix costs by itself (per_request.py)
# Users start at SPAWN_RATE a second (default 20); the server runs with production settings (DEBUG off).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/guanai_load}"
export GUANAI_CACHE_URL="${GUANAI_CACHE_URL:-redis://127.0.0.1:6379/5}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/6}"
export GUANAI_TRUSTED_PROXY_COUNT=1
out=var/load
mkdir -p "$out"
# The interpreter a deployment runs (docs/deploy.md): the distribution's python3, built with profile-guided and
# link-time optimisation. A python3 built from source without --enable-optimizations (pyenv's default, the one
# on this machine's PATH) serves about a tenth fewer requests a second at saturation (bench/RESULTS.md, "Load",
# fourth round), so the load test has a virtual environment of its own. LOAD_PYTHON chooses another.
python="${LOAD_PYTHON:-/usr/bin/python3}"
[ -x "$python" ] || python=python3
venv="$out/venv"
# Made again when the interpreter, the pins or the dependencies change.
if [ "$(cat "$venv/installed" 2>/dev/null)" != "$python" ] || ! [ "$venv/installed" -nt constraints.txt ] \
  || ! [ "$venv/installed" -nt pyproject.toml ]; then
  rm -rf "$venv" && "$python" -m venv "$venv"
  "$venv/bin/pip" install -q -c constraints.txt -e ".[load]" && echo "$python" > "$venv/installed"
fi
# Production settings, as deployed: DEBUG off, with keys made for this database only (var/ is never committed).
export GUANAI_DEBUG=0
for name in secret-key audit-key; do
  [ -s "$out/$name" ] || "$venv"/bin/python -c "import secrets; print(secrets.token_urlsafe(64))" > "$out/$name"
done
[ -s "$out/keys/field-keys" ] || GUANAI_DEBUG=1 "$venv"/bin/python manage.py generate_keys --dir "$out/keys" >/dev/null
export GUANAI_SECRET_KEY_FILE="$out/secret-key" GUANAI_AUDIT_KEY_FILE="$out/audit-key"
export GUANAI_FIELD_KEYS_FILE="$out/keys/field-keys" GUANAI_BLIND_INDEX_KEY_FILE="$out/keys/blind-index-key"
serve() {
  "$venv"/bin/gunicorn config.wsgi --workers "${WORKERS:-4}" --bind 127.0.0.1:8011 --access-logfile /dev/null --preload \
    --pid "$out/gunicorn.pid" --daemon
  # Measure a running server, not its start: wait until it answers, then let every worker serve a few
  # requests (the first request of a worker builds what Django builds lazily).
  for _ in $(seq 60); do
    curl -fs -o /dev/null -H "X-Forwarded-Proto: https" http://127.0.0.1:8011/api/v1/openapi.json && break
    sleep 1
  done
  curl -fs -o /dev/null -H "X-Forwarded-Proto: https" http://127.0.0.1:8011/api/v1/openapi.json \
    || { echo "gunicorn did not answer on 127.0.0.1:8011 within 60 s" >&2; exit 1; }
  local token
  token=$("$venv"/bin/python -c 'import json; print(json.load(open("var/load/tokens.json"))["staff"])')
  for _ in $(seq 40); do
    curl -s -o /dev/null -H "X-Forwarded-Proto: https" -H "Authorization: Bearer $token" \
      "http://127.0.0.1:8011/api/v1/minors/?limit=50" &
  done
  wait
}
stop() {  # and wait until it has let go of the port, for the next run
  local pid
  pid=$(cat "$out/gunicorn.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}
case "${1:-}" in
  prepare)
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='guanai_load'" | grep -q 1 \
      || createdb -h 127.0.0.1 -U postgres guanai_load
    "$venv"/bin/python bench/load/prepare.py
    "$venv"/bin/python manage.py collectstatic --noinput -v 0
    psql -h 127.0.0.1 -U postgres -d guanai_load -qc "VACUUM ANALYZE"  # as autovacuum would have by now
    # The dashboards read snapshots, as in production (beat rebuilds them hourly).
    "$venv"/bin/python manage.py snapshot_indicators --from "$(TZ=Asia/Shanghai date -d '-12 months' +%Y-%m)" --to "$(TZ=Asia/Shanghai date +%Y-%m)" ;;
  step)
    serve; trap stop EXIT
    for users in $(seq "$2" "$4" "$3"); do
      echo "== $users users"
      "$venv"/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8011 --headless -u "$users" \
        -r "${SPAWN_RATE:-20}" -t "${STEP_SECONDS:-120}s" --csv "$out/step-$users" --only-summary 2>&1 | tail -n 25 || true
      uptime
    done ;;
  soak)
    serve; trap stop EXIT
    # Resident memory of gunicorn (master and workers) every 30 s while the soak runs: growth that levels off
    # is warm-up, growth that goes on is a leak.
    (while sleep 30; do
       echo "$(date +%s),$(ps -o rss= -p "$(cat "$out/gunicorn.pid")" --ppid "$(cat "$out/gunicorn.pid")" | awk '{s+=$1} END {print s}')"
     done) > "$out/soak-rss.csv" &
    sampler=$!
    "$venv"/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8011 --headless -u "$2" -r "${SPAWN_RATE:-20}" \
      -t "$3s" --csv "$out/soak" --only-summary 2>&1 | tail -n 25 || true
    kill "$sampler"
    echo "RSS of gunicorn in KiB, every 30 s (epoch,KiB):"; cat "$out/soak-rss.csv" ;;
  per-request)
    shift; "$venv"/bin/python bench/load/per_request.py "$@" ;;
  *) echo "usage: $0 prepare | step FROM TO BY | soak USERS SECONDS | per-request [NAME...]"; exit 2 ;;
esac
