#!/usr/bin/env bash
# Screenshot of the admin analytics dashboard as staff see it, saved to docs/dashboard.png.
#
# A throwaway SQLite database gets the demo data, a month of bookings, cancellations and
# waitlist activity made through the services at their past times (evently/demo.py, with the
# clock moved by time-machine); the development server runs
# on 127.0.0.1:8093 while headless Chromium, logged in as the demo admin through a session
# cookie, takes the picture (scripts/screenshot.py). Nothing in the product changes for it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${SCREENSHOT_PORT:-8093}"
OUT="${SCREENSHOT_OUT:-docs/dashboard.png}"
URL="http://127.0.0.1:$PORT/admin/dashboard/"

if ! command -v chromium >/dev/null; then
  echo "Installing Debian's chromium..."
  apt-get update -qq && apt-get install -y -qq chromium
fi

WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

unset DATABASE_URL REDIS_URL
export SQLITE_PATH="$WORK/db.sqlite3" DEBUG=true LOG_LEVEL=WARNING \
  EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
"$PY" manage.py migrate --noinput >/dev/null
"$PY" manage.py load_demo_data >/dev/null

# A logged-in session for the demo admin, made the way django.contrib.auth.login makes one.
COOKIE="$("$PY" manage.py shell -v 0 -c '
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from importlib import import_module
from accounts.models import User
admin = User.objects.get(email="admin@evently.local")
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(admin.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
session.create()
print(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
')"

"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
  if "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/api/health')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

mkdir -p "$(dirname "$OUT")"
"$PY" scripts/screenshot.py "$URL" "$OUT" "$COOKIE" --width 1400 --height 1800
