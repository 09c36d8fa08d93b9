#!/usr/bin/env bash
# Everything CI checks: lint, format, types, migrations, deploy check, the tests.
# With CI=true, DATABASE_URL (PostgreSQL) and CACHE_URL (Redis) come from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
# Every step checks the configuration it is given, never the quick start's .env
# (DEBUG on): `make demo` then `make test` in one clone must pass.
export READ_DOT_ENV=false

step() { printf '\n== %s\n' "$*"; }

step "ruff check"
ruff check .
step "ruff format --check"
ruff format --check .

step "mypy"
# The django-stubs plugin loads the settings; these values only satisfy them.
SECRET_KEY=check-only EMAIL_URL=dummymail:// DATABASE_URL="sqlite:///:memory:" mypy

step "migrations are committed"
SECRET_KEY=check-only EMAIL_URL=dummymail:// DATABASE_URL="sqlite:///:memory:" \
  python manage.py makemigrations --check --dry-run

step "deploy check with production settings"
# Production-shaped configuration; nothing here is contacted by the check.
env -u DEBUG \
  SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=coachdesk.example.com \
  SITE_URL=https://coachdesk.example.com \
  DATABASE_URL=postgres://coachdesk@127.0.0.1:5432/coachdesk \
  CACHE_URL=redis://127.0.0.1:6379/0 \
  EMAIL_URL=smtp+tls://mailer:secret@smtp.example.com:587 \
  python manage.py check --deploy --fail-level WARNING

if [ "${QUICKSTART_CHECK:-}" = inner ]; then
  # The quick-start check's own run (scripts/quickstart-check.sh): no browser journeys.
  step "tests"
  python -m pytest "$@"
  exit
fi

step "browser tooling for the journeys in tests/e2e"
# Debian's Chromium (never a browser downloaded at run time) and axe-core from
# npm. Where either cannot be installed the journeys skip and say why; under
# CI=true a skipped test fails the run.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
      echo "Could not install chromium with apt-get: the browser journeys will skip."
  else
    echo "No /usr/bin/chromium and not root: the browser journeys will skip (apt-get install chromium)."
  fi
fi
if command -v npm >/dev/null 2>&1; then
  if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ] ||
    [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) ||
      echo "npm ci in tests/e2e failed: the browser journeys will skip."
  fi
else
  echo "No node/npm: axe-core cannot be installed, the browser journeys will skip."
fi

step "tests"
python -m pytest "$@"

if [ "${CI:-}" = true ]; then
  step "quick start: make demo, then make test, in a fresh clone of the committed code"
  scripts/quickstart-check.sh
fi
