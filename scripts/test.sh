#!/usr/bin/env bash
# Runs the suite on PostgreSQL when it answers (DATABASE_URL, or the local server on
# 127.0.0.1:5432), otherwise on SQLite with the PostgreSQL-only tests skipped.
# With CI set, PostgreSQL is required.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# A database name of this run's own, so runs in parallel (two checkouts, a developer and CI)
# never share pytest-django's test database.
LOCAL_PG="postgres://postgres@127.0.0.1:5432/evently_$$"

pg_answers() {
  "$BIN/python" - "$1" <<'PY'
import sys
import psycopg
try:
    url = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL does not answer at {url}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

if [ -z "${DATABASE_URL:-}" ] && pg_answers "$LOCAL_PG" 2>/dev/null; then
  export DATABASE_URL="$LOCAL_PG"
fi

case "${DATABASE_URL:-}" in
  postgres://*|postgresql://*)
    if ! pg_answers "$DATABASE_URL"; then exit 1; fi ;;
  *)
    if [ -n "${CI:-}" ]; then
      echo "CI is set: the suite needs PostgreSQL (set DATABASE_URL or start the local server)." >&2
      exit 1
    fi
    echo "************************************************************************"
    echo "* No PostgreSQL: running on SQLite, PostgreSQL-only tests are SKIPPED. *"
    echo "************************************************************************" ;;
esac

# tests/test_proxy.py runs Debian's nginx in front of gunicorn. Install it when it is missing
# and we may (as `make bench` does for wrk); without it that test skips, or fails under CI.
if [ ! -x /usr/sbin/nginx ] && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq nginx >/dev/null) \
    || echo "Could not install nginx: tests/test_proxy.py will not run." >&2
fi

# tests/test_deployment.py reads gunicorn's listen queue with ss (Debian's iproute2).
if ! command -v ss >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null) \
    || echo "Could not install iproute2: the listen-queue test will fail." >&2
fi

# tests/test_alert_rules.py checks deploy/prometheus/ with Debian's promtool (package prometheus).
if ! command -v promtool >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq prometheus >/dev/null) \
    || echo "Could not install prometheus: tests/test_alert_rules.py will not run." >&2
fi

# The browser tests (tests/browser/) drive Debian's headless chromium through chromium-driver.
# Install them when missing and we may; without them those tests skip, or fail under CI.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "Could not install chromium and chromium-driver: tests/browser/ will not run." >&2
  fi
fi

# A test run never needs the production guard; the suite checks it in a subprocess.
export DEBUG="${DEBUG:-false}" SECRET_KEY="${SECRET_KEY:-test-secret-key-not-for-production}"
exec "$BIN/pytest" "$@"
