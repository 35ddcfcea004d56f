#!/usr/bin/env python3
"""Start-up cost of the pip-installed `karpsim` command against the native binary, end to end.

Spawns both commands alternately (native, pip, native, pip...) so that a drift in the machine's speed
hits both alike, and times each whole process from the parent (start-up, imports, work, exit):

- `karpsim --version`;
- `karpsim provision -f DIR -o json` on a generated 5,000-pod cluster (the Online Boutique NodePool
  and DaemonSet, its 12 Deployments scaled to 5,000 replicas in all).

Prints min / median / max wall time per command, the median of the paired differences, and the
same for CPU time (user + system, which a loaded machine does not inflate as much), and writes them
to target/startup.json, which benches/report.py puts into docs/benchmarks.md. Target: the pip
command within 30 ms of the native binary.

    python3 benches/startup.py [--runs 15] [--native target/release/karpsim] [--pip .venv/bin/karpsim] [--realtime]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--native", default=str(ROOT / "target" / "release" / "karpsim"))
    ap.add_argument("--pip", default=str(ROOT / ".venv" / "bin" / "karpsim"))
    ap.add_argument("--realtime", action="store_true", help="time the commands at real-time priority (SCHED_FIFO 50)")
    args = ap.parse_args()
    if args.realtime:
        # Children inherit the policy, so both commands of every pair run ahead of other jobs alike.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        except PermissionError:
            sys.exit("--realtime needs root or CAP_SYS_NICE (sched_setscheduler SCHED_FIFO)")
    for exe in (args.native, args.pip):
        if not pathlib.Path(exe).exists():
            sys.exit(f"{exe} not found (build with `cargo build --release -p karpsim-cli` and `bash scripts/python-test.sh`)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = pathlib.Path(tmp)
        make_cluster(cluster)
        cases = {
            "version": ["--version"],
            f"provision_{PODS}_pods": ["provision", "-f", str(cluster), "-o", "json"],
        }
        for case, argv in cases.items():
            native, pip = [], []
            time_once([args.native, *argv])  # warm the page cache
            time_once([args.pip, *argv])
            for _ in range(args.runs):
                native.append(time_once([args.native, *argv]))
                pip.append(time_once([args.pip, *argv]))
            wall_diff = [p[0] - n[0] for n, p in zip(native, pip)]
            cpu_diff = [p[1] - n[1] for n, p in zip(native, pip)]
            results[case] = {
                "native": summary([w for w, _ in native]),
                "pip": summary([w for w, _ in pip]),
                "pip_minus_native_median_ms": statistics.median(wall_diff) * 1e3,
                "native_cpu": summary([c for _, c in native]),
                "pip_cpu": summary([c for _, c in pip]),
                "pip_minus_native_cpu_median_ms": statistics.median(cpu_diff) * 1e3,
            }
            r = results[case]
            print(
                f"{case:>22}: wall native {r['native']['median_ms']:7.1f} ms (min {r['native']['min_ms']:.1f}, max {r['native']['max_ms']:.1f}), "
                f"pip {r['pip']['median_ms']:7.1f} ms (min {r['pip']['min_ms']:.1f}, max {r['pip']['max_ms']:.1f}), "
                f"pip - native {r['pip_minus_native_median_ms']:+.1f} ms; cpu native {r['native_cpu']['median_ms']:.1f} ms, "
                f"pip {r['pip_cpu']['median_ms']:.1f} ms, pip - native {r['pip_minus_native_cpu_median_ms']:+.1f} ms (medians)"
            )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average when done: {load:.1f} on {os.cpu_count()} cores")
    doc = {
        "runs": args.runs, "native": args.native, "pip": args.pip, "load": load, "cores": os.cpu_count(),
        "realtime": args.realtime, "cases": results,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
