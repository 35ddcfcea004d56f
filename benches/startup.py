#!/usr/bin/env python3
"""Start-up cost of the ways a user runs `karpsim`, against the native binary, end to end.

Three commands, spawned in turn (native, pip, module, native, pip, module...) so that a drift in the
machine's speed hits all alike, each whole process timed from the parent (start-up, imports, work,
exit):

- `native`: the release binary (`target/release/karpsim`);
- `pip`: the `karpsim` that `pip install` put in the environment (`.venv/bin/karpsim`: the native
  binary of the `karpsim-cli` wheel since branch `pipnative`, so this column checks that installing
  through pip costs nothing);
- `module`: `python -m karpsim` with the environment's interpreter (`.venv/bin/python`): the same
  command run inside CPython through the extension module, which adds the interpreter's start-up.

Cases: `karpsim --version`, and `karpsim provision -f DIR -o json` on a generated 5,000-pod cluster
(the Online Boutique NodePool and DaemonSet, its 12 Deployments scaled to 5,000 replicas in all).

Prints min / median / max wall time per command, the median of the paired differences with the
native binary, and the same for CPU time (user + system, which a loaded machine does not inflate as
much), and writes them to target/startup.json, which benches/report.py puts into
docs/benchmarks.md. Target (issue 14): the pip-installed command within 30 ms of the native binary.

    python3 benches/startup.py [--runs 15] [--native target/release/karpsim] [--pip .venv/bin/karpsim]
                               [--python .venv/bin/python] [--realtime]

On a machine shared with other jobs, `--realtime` runs the timed commands at real-time priority
(SCHED_FIFO, needs root or CAP_SYS_NICE) so that they do not wait behind the others: what is
measured is then the commands' own cost, as on a quiet machine. The JSON and the table say so.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOUTIQUE = ROOT / "examples" / "online-boutique"
OUT = ROOT / "target" / "startup.json"
PODS = 5000


def make_cluster(directory: pathlib.Path, pods: int = PODS) -> None:
    """The Online Boutique with its Deployments scaled so that their replicas sum to `pods`."""
    for name in ("nodepool.yaml", "kube-prometheus-node-exporter-daemonset.yaml"):
        (directory / name).write_text((BOUTIQUE / name).read_text())
    docs = (BOUTIQUE / "microservices-demo.yaml").read_text().split("\n---\n")
    deployments = [i for i, d in enumerate(docs) if re.search(r"^kind: Deployment$", d, flags=re.M)]
    per, extra = divmod(pods, len(deployments))
    for n, i in enumerate(deployments):
        replicas = per + (1 if n < extra else 0)
        doc = re.sub(r"^  replicas: \d+\n", "", docs[i], flags=re.M)
        docs[i] = re.sub(r"^spec:\n", f"spec:\n  replicas: {replicas}\n", doc, count=1, flags=re.M)
    (directory / "microservices-demo.yaml").write_text("\n---\n".join(docs))


def time_once(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of one run, and its CPU seconds (user + system, the child's own accounting)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {done.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def summary(xs: list[float]) -> dict[str, float]:
    return {"min_ms": min(xs) * 1e3, "median_ms": statistics.median(xs) * 1e3, "max_ms": max(xs) * 1e3}


def compare(runs: dict[str, list[tuple[float, float]]]) -> dict[str, object]:
    """Each command's wall and CPU summaries, and its median paired difference with the native one."""
    native = runs["native"]
    out: dict[str, object] = {}
    for name, xs in runs.items():
        out[name] = summary([w for w, _ in xs])
        out[f"{name}_cpu"] = summary([c for _, c in xs])
        if name != "native":
            out[f"{name}_minus_native_median_ms"] = statistics.median(x[0] - n[0] for n, x in zip(native, xs)) * 1e3
            out[f"{name}_minus_native_cpu_median_ms"] = statistics.median(x[1] - n[1] for n, x in zip(native, xs)) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--native", default=str(ROOT / "target" / "release" / "karpsim"))
    ap.add_argument("--pip", default=str(ROOT / ".venv" / "bin" / "karpsim"))
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"), help="the interpreter for `python -m karpsim`")
    ap.add_argument("--realtime", action="store_true", help="time the commands at real-time priority (SCHED_FIFO 50)")
    args = ap.parse_args()
    if args.realtime:
        # Children inherit the policy, so every command of a turn runs ahead of other jobs alike.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        except PermissionError:
            sys.exit("--realtime needs root or CAP_SYS_NICE (sched_setscheduler SCHED_FIFO)")
    for exe in (args.native, args.pip, args.python):
        if not pathlib.Path(exe).exists():
            sys.exit(f"{exe} not found (build with `cargo build --release -p karpsim-cli` and `bash scripts/python-test.sh`)")
    commands = {"native": [args.native], "pip": [args.pip], "module": [args.python, "-m", "karpsim"]}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = pathlib.Path(tmp)
        make_cluster(cluster)
        cases = {
            "version": ["--version"],
            f"provision_{PODS}_pods": ["provision", "-f", str(cluster), "-o", "json"],
        }
        for case, argv in cases.items():
            for cmd in commands.values():
                time_once([*cmd, *argv])  # warm the page cache
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, cmd in commands.items():
                    runs[name].append(time_once([*cmd, *argv]))
            r = results[case] = compare(runs)
            parts = [f"native {r['native']['median_ms']:.1f} ms (min {r['native']['min_ms']:.1f}, max {r['native']['max_ms']:.1f})"]
            for name in ("pip", "module"):
                parts.append(
                    f"{name} {r[name]['median_ms']:.1f} ms (min {r[name]['min_ms']:.1f}, max {r[name]['max_ms']:.1f}; "
                    f"{r[f'{name}_minus_native_median_ms']:+.1f} wall, {r[f'{name}_minus_native_cpu_median_ms']:+.1f} cpu)"
                )
            print(f"{case:>22}: " + ", ".join(parts))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average when done: {load:.1f} on {os.cpu_count()} cores")
    doc = {
        "runs": args.runs, "native": args.native, "pip": args.pip, "module": f"{args.python} -m karpsim",
        "load": load, "cores": os.cpu_count(), "realtime": args.realtime, "cases": results,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
