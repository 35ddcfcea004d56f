# The README's commands. `make test` is what CI runs (.ci/run); add further steps as prerequisites of
# `test` (e.g. `test: test-rust test-python`).

CARGO ?= cargo

.PHONY: demo test test-rust test-python lint bench bench-e2e properties

# Provision the Online Boutique example against the embedded us-east-1 catalog, saying what it builds.
demo:
	@echo "make demo: building the karpsim command (cargo build --release -p karpsim-cli; the first build takes a few minutes, later ones seconds)"
	$(CARGO) build --release -p karpsim-cli
	@echo "make demo: karpsim provision -f examples/online-boutique"
	$(CARGO) run --release -q -p karpsim-cli -- provision -f examples/online-boutique

test: test-rust test-python

# Unit, integration and doc tests of the core and the CLI (the default workspace members; the PyO3
# crate is built once, in release, by test-python), with the committed Cargo.lock.
test-rust:
	$(CARGO) test --locked
	$(CARGO) test --locked -p karpsim-benches --benches --no-run

# Build the two wheels (the `karpsim` command, crates/karpsim-cli, and the Python package that requires
# it), install them into .venv with the test extras, run pytest (tests/).
test-python:
	bash scripts/python-test.sh

# Clippy over the whole workspace (core, CLI, Python binding, benches), warnings as errors.
lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Quick criterion run of benches/ (reduced samples), the start-up of the pip-installed command against
# the native one (when .venv has it), then the tables in docs/benchmarks.md.
bench:
	$(CARGO) bench -p karpsim-benches -- --warm-up-time 1 --measurement-time 3 --sample-size 10 --noplot
	$(CARGO) build --release -p karpsim-cli
	if [ -x .venv/bin/karpsim ]; then python3 benches/startup.py; fi
	python3 benches/report.py

# Every row of issue 16's table end to end: the release command on generated input files (start-up,
# parsing, solve and output), min/median/max and peak memory, then the tables in docs/benchmarks.md.
# About 15 minutes; `python3 benches/e2e.py --only ROW` for one row, `--pip .venv/bin/karpsim` to add
# the pip-installed command.
bench-e2e:
	$(CARGO) build --release -p karpsim-cli
	python3 benches/e2e.py
	python3 benches/report.py

# A long run of the property tests (tests/properties_*.rs): many more cases than CI's seeded run,
# from a fresh random seed each time (printed first; SEED=N repeats a run). CASES=N to change.
CASES ?= 2000
properties:
	seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "property tests: $(CASES) cases, seed $$seed (SEED=$$seed to repeat)"; \
	PROPTEST_CASES=$(CASES) PROPTEST_RNG_SEED=$$seed $(CARGO) test --release --locked -p karpsim --test properties_parsers --test properties_clusters
