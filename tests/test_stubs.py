from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_stubs_match_the_native_module() -> None:
    cmd = [sys.executable, "-m", "mypy.stubtest", "karpsim._karpsim", "--allowlist", str(HERE / "stubtest_allowlist.txt")]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_typing_smoke() -> None:
    cmd = [sys.executable, "-m", "mypy", "--strict", str(HERE / "typing_smoke.py")]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_package_is_strictly_typed() -> None:
    package = HERE.parent / "python" / "karpsim"
    cmd = [sys.executable, "-m", "mypy", "--strict", str(package)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    assert out.returncode == 0, out.stdout + out.stderr
