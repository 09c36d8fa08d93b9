#!/usr/bin/env bash
# Everything CI checks: lint, format, migrations, deploy check, the tests.
# With CI=true, DATABASE_URL (PostgreSQL) and CACHE_URL (Redis) come from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "ruff check"
ruff check .
step "ruff format --check"
ruff format --check .

step "migrations are committed"
SECRET_KEY=check-only EMAIL_URL=dummymail:// DATABASE_URL="sqlite:///:memory:" \
  python manage.py makemigrations --check --dry-run

step "deploy check with production settings"
# Production-shaped configuration; nothing here is contacted by the check.
env -u DEBUG \
  SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=coachdesk.example.com \
  DATABASE_URL=postgres://coachdesk@127.0.0.1:5432/coachdesk \
  CACHE_URL=redis://127.0.0.1:6379/0 \
  EMAIL_URL=smtp+tls://mailer:secret@smtp.example.com:587 \
  python manage.py check --deploy --fail-level WARNING

step "tests"
python -m pytest "$@"
