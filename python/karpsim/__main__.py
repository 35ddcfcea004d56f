"""The `karpsim` command (installed as a console script): `python -m karpsim provision -f DIR`."""

from __future__ import annotations

import sys

from ._karpsim import cli

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the karpsim command line and return its exit code (also the process's, as a script)."""
    args = ["karpsim", *(sys.argv[1:] if argv is None else argv)]
    sys.stdout.flush()
    sys.stderr.flush()
    return cli(args)


if __name__ == "__main__":
    sys.exit(main())
