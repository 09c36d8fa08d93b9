#!/usr/bin/env bash
# The quick start: install, create a local .env, migrate SQLite, seed demo data, serve.
#   --no-serve   set everything up and stop there (CI's quick-start check uses it)
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo is configured by its .env, even when started from a shell (or CI step)
# that turned .env off for the tests.
export READ_DOT_ENV=true

serve=true
for arg in "$@"; do
  case "$arg" in
    --no-serve) serve=false ;;
    *) echo "usage: scripts/demo.sh [--no-serve]" >&2; exit 2 ;;
  esac
done

scripts/bootstrap.sh

if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  cat > .env <<ENV
# Written by scripts/demo.sh for the local quick start. Not for production;
# the tests never read it.
DEBUG=true
SECRET_KEY=$secret
# One line per email in the terminal ("To ada@example.com: Your Coachdesk sign-in code: 123456").
EMAIL_URL=compactconsolemail://
# Warnings and errors only, so the email lines stand out (INFO logs every task).
LOG_LEVEL=WARNING
ENV
  echo "Wrote .env for the local quick start (SQLite, each email printed here as one line)."
fi

.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py seed_demo

if [ "$serve" = false ]; then
  exit 0
fi

# Email goes through the task queue: a worker beside runserver sends it (to this
# terminal, one line each) and stops with it.
.venv/bin/python manage.py db_worker --interval 0.5 --no-startup-delay --no-reload -v 0 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM

echo
echo "Open http://127.0.0.1:8000 and sign in with one of the emails above;"
echo "the sign-in code is printed in this terminal, one line per email."
echo "To raise nudge flags and send reminders, run in another terminal:"
echo "  .venv/bin/python manage.py run_nudges"
echo
.venv/bin/python manage.py runserver 127.0.0.1:8000
