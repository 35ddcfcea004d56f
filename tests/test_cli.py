from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import BOUTIQUE, ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "karpsim", *args], capture_output=True, text=True, cwd=ROOT)


def test_provision_json() -> None:
    out = run("provision", "-f", str(BOUTIQUE), "--output", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["nodeclaims"] and doc["cost_per_hour"] > 0


def test_exit_codes_propagate() -> None:
    out = run("provision", "-f", "does/not/exist")
    assert out.returncode == 2
    assert "error" in out.stderr
    assert run("--version").returncode == 0
    assert run("no-such-command").returncode == 2


def test_console_script_is_installed() -> None:
    # pip installs the console script beside the interpreter of the environment it installs into
    exe = shutil.which("karpsim", path=str(Path(sys.executable).parent))
    assert exe is not None, f"no karpsim console script in {Path(sys.executable).parent}"
    out = subprocess.run([exe, "catalog", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "catalog" in out.stdout.lower()
