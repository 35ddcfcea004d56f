# The README's commands. `make test` is what CI runs (.ci/run); add further steps as prerequisites of
# `test` (e.g. `test: test-rust test-python`).

CARGO ?= cargo

.PHONY: demo test test-rust lint

# Provision the Online Boutique example against the embedded us-east-1 catalog.
demo:
	$(CARGO) run --release -q -p karpsim-cli -- provision -f examples/online-boutique

test: test-rust

# Unit, integration and doc tests of every default workspace member, with the committed Cargo.lock.
test-rust:
	$(CARGO) test --workspace --locked

# Clippy on the command-line crate only: the core still has clippy findings of its own.
lint:
	$(CARGO) clippy -p karpsim-cli --all-targets --locked --no-deps -- -D warnings
