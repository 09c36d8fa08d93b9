#!/usr/bin/env bash
# The quick start: install, create a local .env, migrate SQLite, seed demo data, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  cat > .env <<ENV
# Written by scripts/demo.sh for the local quick start. Not for production.
DEBUG=true
SECRET_KEY=$secret
EMAIL_URL=consolemail://
ENV
  echo "Wrote .env for the local quick start (SQLite, emails printed here)."
fi

.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py seed_demo
# Email goes through the task queue: a worker beside runserver sends it (to this
# terminal, EMAIL_URL=consolemail://) and stops with it.
.venv/bin/python manage.py db_worker --interval 0.5 --no-startup-delay --no-reload -v 0 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM

echo
echo "Open http://127.0.0.1:8000 and sign in with one of the emails above;"
echo "the sign-in code is printed in this terminal as an email."
echo
.venv/bin/python manage.py runserver 127.0.0.1:8000
