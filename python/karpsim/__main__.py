"""`python -m karpsim provision -f DIR`: the karpsim command run inside Python.

The `karpsim` command that `pip install` puts in the environment is the native binary (the
`karpsim-cli` wheel this package requires), not this module. This module runs the same command in
the interpreter: `python -m karpsim ...` (`console`), or `main(argv)` from Python code.

It imports only the package's `__init__` (which loads the native module and nothing else: no pandas,
numpy or typing) and `os`/`sys`, already loaded by the interpreter.
"""

from __future__ import annotations

import os
import sys

from ._karpsim import _cli_then_exit, cli

__all__ = ["main", "console"]


def main(argv: list[str] | None = None) -> int:
    """Run the karpsim command line and return its exit code; the interpreter goes on afterwards."""
    args = ["karpsim", *(sys.argv[1:] if argv is None else argv)]
    sys.stdout.flush()
    sys.stderr.flush()
    return cli(args)


def console() -> None:
    """`python -m karpsim`: run the command line and end the process with its exit code, as the
    native binary does. The command's state is left to the operating system and the interpreter's
    shutdown is skipped (`os._exit`): nothing is left to run or to flush (Python's streams are
    flushed before the command, which writes and flushes its own output), and both were a third of
    the in-Python command's cost over the binary on a one-pod run."""
    sys.stdout.flush()
    sys.stderr.flush()
    code = _cli_then_exit(["karpsim", *sys.argv[1:]])
    os._exit(code)


if __name__ == "__main__":
    console()
