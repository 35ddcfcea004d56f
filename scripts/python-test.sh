#!/usr/bin/env bash
# Build the Python package's two wheels (release, through pip's PEP 517 builds with maturin): the
# `karpsim` command (`crates/karpsim-cli`, the native binary) and the package with its extension
# (`.`, which requires the first), install both with the test extras into .venv in one pip command
# (so pip takes the clone's `karpsim-cli` for the dependency), and run the Python tests. Works from a
# fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# an older karpsim wrote its own `karpsim` console script: uninstalled during the install, after the
# binary's wheel was installed, its record would take the binary away with it
.venv/bin/python -m pip uninstall -q -y karpsim karpsim-cli 2>/dev/null || true
.venv/bin/python -m pip install -q ./crates/karpsim-cli '.[test]'
.venv/bin/python -m pytest -q tests "$@"
