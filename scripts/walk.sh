#!/usr/bin/env bash
# make walk: the README's API walk, run exactly as written, against a server of its own.
#
# The walk is the README's shell blocks marked `<!-- walk -->`, taken from README.md here, so
# the README and this run cannot drift apart. A fresh development server (DEBUG on, as
# `make run` serves) starts on a free port (WALK_PORT to choose one) over a new SQLite
# database with the demo data, and the blocks run in order in one shell with PORT set to the
# server's, in a temporary directory (the walk saves a ticket's QR code there). The walk
# checks itself: every id it reads from an answer must be there (a 409 where a 201 belongs
# has no booking id), and `set -e` stops it at the first failure.
#
# WALK_DIR keeps the database, the script and the server's log there instead of a temporary
# directory that is removed afterwards (the test reads the database).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.venv/bin"

if [ -n "${WALK_DIR:-}" ]; then
  mkdir -p "$WALK_DIR"
  dir=$(cd "$WALK_DIR" && pwd)
else
  dir=$(mktemp -d)
fi
port=${WALK_PORT:-$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

# The blocks, in the README's order.
"$BIN/python" - "$ROOT/README.md" > "$dir/walk.sh" <<'PY'
import re
import sys

text = open(sys.argv[1]).read()
blocks = re.findall(r"^<!-- walk -->\n```sh\n(.*?)^```$", text, re.M | re.S)
if not blocks:
    sys.exit("README.md has no block marked <!-- walk -->")
print("\n".join(blocks))
PY

export DEBUG=true DATABASE_URL="sqlite:///$dir/walk.sqlite3" EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
# As make run serves: checkouts through django-payments' dummy provider.
export PAYMENT_PROVIDER=dummy PUBLIC_URL="http://localhost:$port"
unset REDIS_URL
"$BIN/python" manage.py migrate --noinput --verbosity 0
"$BIN/python" manage.py load_demo_data > "$dir/demo.log"
"$BIN/python" manage.py runserver --noreload "127.0.0.1:$port" > "$dir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ -z "${WALK_DIR:-}" ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/api/health" && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$dir/server.log" >&2; exit 1; fi
  sleep 0.2
done

echo "The README's walk against http://localhost:$port (PORT=$port):"
# curl prints an answer without a newline after it: end each one, so the next command's echo
# (bash -v prints every line before running it) starts a line of its own.
cd "$dir"
PORT=$port bash -euo pipefail -v -c '
curl() { command curl "$@"; local status=$?; echo; return $status; }
source ./walk.sh
'
echo "The walk finished: every step answered as the README says."
