#!/usr/bin/env bash
# CI: `make demo` then `make test` in one fresh clone of the committed code.
# The demo's setup (scripts/demo.sh --no-serve) writes .env (DEBUG on, the console
# mailer) and a SQLite database; everything make test checks must pass beside
# them. Arguments go to pytest (default: the tests of the settings, which start
# Django in subprocesses and would read a .env, and of the demo itself).
set -euo pipefail
cd "$(dirname "$0")/.."

clone=$(mktemp -d)
trap 'rm -rf "$clone"' EXIT
git clone --quiet . "$clone"
cd "$clone"

# As a person would run it: on SQLite with its own .env, whatever database, cache
# and settings the surrounding CI run has in its environment.
env -u DATABASE_URL -u CACHE_URL -u DEBUG -u SECRET_KEY -u EMAIL_URL -u READ_DOT_ENV \
  scripts/demo.sh --no-serve
test -f coachdesk.sqlite3
grep -q '^DEBUG=true' .env  # the demo's own configuration is in place
if [ "$#" -eq 0 ]; then
  set -- tests/config tests/engagements/test_seed_demo.py
fi
# Without the outer run's READ_DOT_ENV: scripts/test.sh must turn .env off itself.
env -u READ_DOT_ENV QUICKSTART_CHECK=inner scripts/test.sh "$@"
