# The two commands of the README, and a few helpers.
.PHONY: demo test setup bench

demo:  ## Start the demo site on SQLite with demo data at http://127.0.0.1:8000
	@scripts/demo.sh

test:  ## Everything CI checks: lint, format, types, migrations, deploy check, tests
	@scripts/test.sh

setup:  ## Install the toolchain and dependencies only
	@scripts/bootstrap.sh

bench:  ## Benchmarks on a generated PostgreSQL data set; prints a table (BENCH_ARGS="--help")
	@scripts/bootstrap.sh
	@.venv/bin/python -m bench $(BENCH_ARGS)
