# The README's commands. `make test` is what CI runs (.ci/run); add further steps as prerequisites of
# `test` (e.g. `test: test-rust test-python`).

CARGO ?= cargo

.PHONY: demo test test-rust test-python lint bench

# Provision the Online Boutique example against the embedded us-east-1 catalog.
demo:
	$(CARGO) run --release -q -p karpsim-cli -- provision -f examples/online-boutique

test: test-rust test-python

# Unit, integration and doc tests of the core and the CLI (the default workspace members; the PyO3
# crate is built once, in release, by test-python), with the committed Cargo.lock.
test-rust:
	$(CARGO) test --locked
	$(CARGO) test --locked -p karpsim-benches --benches --no-run

# Build the wheel, install it into .venv with its test extras, run pytest (tests/).
test-python:
	bash scripts/python-test.sh

# Clippy over the whole workspace (core, CLI, Python binding, benches), warnings as errors.
lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Quick criterion run of benches/ (reduced samples), then the table in docs/benchmarks.md.
bench:
	$(CARGO) bench -p karpsim-benches -- --warm-up-time 1 --measurement-time 3 --sample-size 10 --noplot && python3 benches/report.py
