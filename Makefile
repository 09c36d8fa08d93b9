# The two commands of the README, and a few helpers.
.PHONY: demo test setup

demo:  ## Start the demo site on SQLite with demo data at http://127.0.0.1:8000
	@scripts/demo.sh

test:  ## Everything CI checks: lint, format, migrations, deploy check, tests
	@scripts/test.sh

setup:  ## Install the toolchain and dependencies only
	@scripts/bootstrap.sh
