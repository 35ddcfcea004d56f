from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BOUTIQUE, DIURNAL, ROOT


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


def test_command_is_installed() -> None:
    # pip installs the command beside the interpreter of the environment it installs into
    exe = _installed_command()
    out = subprocess.run([exe, "catalog", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "catalog" in out.stdout.lower()


def _installed_command() -> str:
    exe = shutil.which("karpsim", path=str(Path(sys.executable).parent))
    assert exe is not None, f"no karpsim command in {Path(sys.executable).parent}"
    return exe


# The first bytes of a native executable, by platform (pip installs a Python console script as a
# text file starting with `#!`, or on Windows as a small launcher .exe).
_EXECUTABLE_MAGIC = {"linux": b"\x7fELF", "darwin": b"\xcf\xfa\xed\xfe"}


def test_installed_command_is_the_native_executable() -> None:
    # `pip install karpsim` brings the binary (the `karpsim-cli` wheel), so the command a user runs
    # starts in milliseconds, with no Python interpreter behind it
    head = Path(_installed_command()).read_bytes()[:4]
    assert not head.startswith(b"#!"), "the installed karpsim is a script, not the native command"
    if sys.platform in _EXECUTABLE_MAGIC:
        assert head == _EXECUTABLE_MAGIC[sys.platform], head


def test_one_package_installs_the_command() -> None:
    # the Python package requires the command's wheel at its own version and writes no `karpsim`
    # executable itself: one file in bin/, owned by `karpsim-cli`
    from importlib import metadata

    version = metadata.version("karpsim")
    assert f"karpsim-cli=={version}" in (metadata.requires("karpsim") or [])
    assert metadata.version("karpsim-cli") == version

    def commands(dist: str) -> list[str]:
        return [str(f) for f in metadata.files(dist) or [] if f.name in ("karpsim", "karpsim.exe")]

    assert commands("karpsim") == []
    assert len(commands("karpsim-cli")) == 1, metadata.files("karpsim-cli")


# The release binary `cargo build --release -p karpsim-cli` leaves in the checkout (pip's build of
# the `karpsim-cli` wheel writes it there too).
RELEASE_BINARY = ROOT / "target" / "release" / ("karpsim.exe" if sys.platform == "win32" else "karpsim")


@pytest.mark.skipif(not RELEASE_BINARY.is_file(), reason="no release binary in target/release")
def test_installed_command_prints_as_the_release_binary() -> None:
    exe = _installed_command()
    for args in (["provision", "-f", str(BOUTIQUE), "-o", "json"], ["provision", "-f", str(BOUTIQUE)]):
        installed = subprocess.run([exe, *args], capture_output=True, cwd=ROOT)
        release = subprocess.run([str(RELEASE_BINARY), *args], capture_output=True, cwd=ROOT)
        assert installed.returncode == 0, installed.stderr
        assert (installed.returncode, installed.stdout, installed.stderr) == (
            release.returncode, release.stdout, release.stderr,
        ), f"{args}: the installed command differs from {RELEASE_BINARY} (rebuild one of them?)"


# What `python -m karpsim` has imported when it ends the process: `os._exit` replaced by a function
# that prints `sys.modules` first (the script ends with `os._exit`, so nothing can look afterwards).
_MODULES_AT_EXIT = """
import os, sys
def _exit(code):
    print(*sorted(sys.modules), sep="\\n", file=sys.stderr)
    sys.stderr.flush()
    os.__dict__["_real_exit"](code)
os.__dict__["_real_exit"] = os._exit
os._exit = _exit
sys.argv = ["karpsim", *sys.argv[1:]]
from karpsim.__main__ import console
console()
"""


def test_python_m_karpsim_imports_only_what_the_command_needs() -> None:
    # pandas, numpy and tqdm take longer to import than a small command takes to run
    out = subprocess.run(
        [sys.executable, "-c", _MODULES_AT_EXIT, "provision", "-f", str(BOUTIQUE), "-o", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["nodeclaims"]
    modules = set(out.stderr.split())
    assert "karpsim._karpsim" in modules, "the check sees the script's imports"
    heavy = {m for m in modules if m.split(".")[0] in {"numpy", "pandas", "tqdm", "matplotlib", "typing"}}
    assert not heavy, f"python -m karpsim imported {sorted(heavy)}"


def test_installed_command_and_python_m_karpsim_print_and_exit_as_the_in_process_command() -> None:
    # the installed command is the binary, `python -m karpsim` runs the extension and ends the
    # process itself (os._exit, nothing freed), `main()` returns to the caller: all say the same
    exe = _installed_command()
    in_process = "import sys; from karpsim.__main__ import main; sys.exit(main(sys.argv[1:]))"
    for args in (
        ["provision", "-f", str(BOUTIQUE), "-o", "json"],
        ["provision", "-f", str(BOUTIQUE)],
        ["provision", "-f", "does/not/exist"],
        ["--version"],
        ["no-such-command"],
    ):
        library = subprocess.run([sys.executable, "-c", in_process, *args], capture_output=True, cwd=ROOT)
        for command in ([exe], [sys.executable, "-m", "karpsim"]):
            out = subprocess.run([*command, *args], capture_output=True, cwd=ROOT)
            assert (out.returncode, out.stdout, out.stderr) == (library.returncode, library.stdout, library.stderr), (command, args)
        assert library.returncode == (2 if args[0] in ("no-such-command",) or "does/not/exist" in args else 0), args


# The command's heap (`karpsim_cli::huge_heap`): where the switch is thrown, the heap's growth is
# advised for huge pages, which the kernel shows as `hg` in the mapping's flags (nothing else in the
# process asks for them). Printed when the process ends (`python -m karpsim` ends it with `os._exit`).
_HUGE_HEAP_AT_EXIT = """
import os, sys
def advised() -> bool:
    with open("/proc/self/smaps") as smaps:
        return any(line.startswith("VmFlags:") and " hg" in line for line in smaps)
def _exit(code):
    print("advised:", advised(), file=sys.stderr)
    sys.stderr.flush()
    os.__dict__["_real_exit"](code)
os.__dict__["_real_exit"] = os._exit
os._exit = _exit
how, args = sys.argv[1], sys.argv[2:]
sys.argv = ["karpsim", *args]
if how == "console":
    from karpsim.__main__ import console
    console()
elif how == "main":
    from karpsim.__main__ import main
    main(args)
    _exit(0)
else:
    import karpsim
    karpsim.provision(karpsim.Cluster.from_paths(*args))
    _exit(0)
"""

_HUGE_PAGES = (
    sys.platform == "linux"
    and platform.libc_ver()[0] == "glibc"
    and Path("/sys/kernel/mm/transparent_hugepage").is_dir()
)


@pytest.mark.skipif(not _HUGE_PAGES, reason="the command's heap set-up is for Linux with glibc and THP")
def test_only_python_m_karpsim_sets_up_the_heap_as_the_binary_does() -> None:
    # `python -m karpsim` is the karpsim command and gets its heap; a library leaves its host's alone
    # without glibc's own huge-page tunable, which would advise the heap whoever runs
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}

    def advised(how: str, *args: str) -> bool:
        out = subprocess.run(
            [sys.executable, "-c", _HUGE_HEAP_AT_EXIT, how, *args], capture_output=True, text=True, cwd=ROOT, env=env,
        )
        assert out.returncode == 0, out.stderr
        return "advised: True" in out.stderr.splitlines()

    assert advised("console", "provision", "-f", str(BOUTIQUE), "-o", "json")
    assert not advised("main", "provision", "-f", str(BOUTIQUE), "-o", "json")
    assert not advised("library", str(BOUTIQUE))


@pytest.mark.skipif(not _HUGE_PAGES, reason="the command's heap set-up is for Linux with glibc and THP")
def test_installed_command_sets_up_its_heap() -> None:
    # the binary's initializer advises its heap before `main`; seen in the running process's mappings
    # while it waits for its input on stdin (`trace from-pods -`), by which time the heap has grown
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    proc = subprocess.Popen(
        [_installed_command(), "trace", "from-pods", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    advised = False
    try:
        deadline = time.monotonic() + 30
        while not advised and proc.poll() is None and time.monotonic() < deadline:
            try:
                with open(f"/proc/{proc.pid}/smaps") as smaps:
                    advised = any(line.startswith("VmFlags:") and " hg" in line for line in smaps)
            except OSError:  # it ended meanwhile: the loop's poll says so
                continue
            time.sleep(0.01)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert advised, "the installed karpsim's heap is not advised for huge pages"


def _stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run `karpsim ARGS` with stderr on a real pseudo-terminal (stdout a pipe); returns the exit
    code, stdout, and everything written to the terminal."""
    import os
    import threading

    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "karpsim", *args], stdout=subprocess.PIPE, stderr=slave, cwd=ROOT)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:  # read while it runs, so a full terminal buffer never blocks the command
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = proc.communicate(timeout=600)
    reader.join(timeout=60)
    os.close(master)
    return proc.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


# A run long enough (several seconds of simulation) that the progress line, shown after 0.5 s, appears.
LONG_RUN = ("simulate", str(DIURNAL), "--duration", "72h")
PROGRESS = "simulate: "


def test_progress_line_on_a_terminal_only() -> None:
    code, stdout, terminal = _stderr_on_a_terminal(*LONG_RUN)
    assert code == 0, terminal
    assert re.search(r"\rsimulate: [0-9.]+ of 72\.0 h simulated \([0-9]+%\)", terminal), repr(terminal[-500:])
    # the line is erased before the report, which goes to stdout untouched
    assert "\r\x1b[K" in terminal
    assert PROGRESS not in stdout and "\x1b" not in stdout

    piped = run(*LONG_RUN)
    assert piped.returncode == 0, piped.stderr
    assert PROGRESS not in piped.stderr and "\x1b" not in piped.stderr and "\r" not in piped.stderr
    assert piped.stdout == stdout, "the report does not depend on where stderr goes"

    code, _, quiet = _stderr_on_a_terminal("--quiet", *LONG_RUN)
    assert code == 0 and PROGRESS not in quiet and "\x1b" not in quiet, repr(quiet[-500:])
