#!/usr/bin/env bash
# Build the Python package (release wheel, through pip's PEP 517 build with maturin), install it with
# its test extras into .venv, and run the Python tests. Works from a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q '.[test]'
.venv/bin/python -m pytest -q tests "$@"
