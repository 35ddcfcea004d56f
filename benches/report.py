#!/usr/bin/env python3
"""Turn criterion's results (target/criterion/**/new/{estimates,benchmark}.json) into docs/benchmarks.md.

Run after `cargo bench -p karpsim-benches` (or `make bench`, which runs both). Times are criterion's
point estimates of the mean with the slope where criterion has one; pods/s uses the throughput the
bench declared. The Karpenter column is the published figure of design §7.1 (Apple M3 Pro, 12 threads).
"""
import datetime
import json
import os
import pathlib
import platform
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
OUT = ROOT / "docs" / "benchmarks.md"

# Karpenter's published pods/s for the same shape (design doc §7.1, PR #2486 baseline column).
KARPENTER = {
    "karpenter_shape/diverse/1": 1 / 164e-6, "karpenter_shape/diverse/50": 50 / 37.5e-3,
    "karpenter_shape/diverse/100": 100 / 76.7e-3, "karpenter_shape/diverse/500": 500 / 0.388,
    "karpenter_shape/diverse/1000": 1000 / 0.777, "karpenter_shape/diverse/2000": 2000 / 1.54,
    "karpenter_shape/diverse/5000": 5000 / 3.74, "karpenter_shape/diverse/10000": 10000 / 8.11,
    "karpenter_shape/diverse/20000": 20000 / 20.2, "karpenter_shape/preferences_respect/4000": 4000 / 11.66,
}


def fmt_time(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = os.cpu_count()
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc ?"
    return f"{model}, nproc {nproc}, {platform.system()} {platform.release()}, {rustc}"


def order(path: pathlib.Path):
    parts = path.relative_to(CRITERION).parts[:-2]
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def rows():
    for est in sorted(CRITERION.glob("**/new/estimates.json"), key=order):
        bench = json.loads((est.parent / "benchmark.json").read_text())
        e = json.loads(est.read_text())
        point = (e.get("slope") or e["mean"])["point_estimate"]
        lo = (e.get("slope") or e["mean"])["confidence_interval"]["lower_bound"]
        hi = (e.get("slope") or e["mean"])["confidence_interval"]["upper_bound"]
        tp = bench.get("throughput") or {}
        n = tp.get("Elements")
        yield bench["full_id"], point, lo, hi, n


def startup_lines() -> list[str]:
    """The start-up table of benches/startup.py (target/startup.json), if it was run."""
    path = ROOT / "target" / "startup.json"
    if not path.exists():
        return []
    doc = json.loads(path.read_text())
    out = [
        "",
        "## Start-up: the pip-installed `karpsim` against the native binary",
        "",
        f"`python3 benches/startup.py`: {doc['runs']} runs of each, alternating, whole processes timed from the parent "
        f"(load average {doc.get('load', float('nan')):.1f} on {doc.get('cores', '?')} cores when measured). Target: the pip "
        "command within 30 ms of the native binary. Milliseconds, median (min – max); the difference is the median of "
        "the paired differences. CPU is user + system time, which other jobs on the machine inflate less than wall time.",
        "",
        "| command | native wall | pip wall | pip − native wall | native CPU | pip CPU | pip − native CPU |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(s: dict) -> str:
        return f"{s['median_ms']:.1f} ({s['min_ms']:.1f} – {s['max_ms']:.1f})"

    for case, r in doc["cases"].items():
        cpu = (
            f"{cell(r['native_cpu'])} | {cell(r['pip_cpu'])} | {r['pip_minus_native_cpu_median_ms']:+.1f}"
            if "native_cpu" in r
            else "– | – | –"
        )
        out.append(f"| `{case}` | {cell(r['native'])} | {cell(r['pip'])} | {r['pip_minus_native_median_ms']:+.1f} | {cpu} |")
    return out


def main() -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} on: {machine()}.",
        "Single-threaded solves; other jobs may have shared the machine, so treat times as ±20%.",
        "Regenerate with `make bench` (quick criterion run, then `python3 benches/report.py`).",
        "",
        "| bench | time (95% CI) | pods/s (nodes/s for consolidation) | Karpenter pods/s | × Karpenter |",
        "|---|---|---|---|---|",
    ]
    for full_id, point, lo, hi, n in rows():
        rate = n / (point / 1e9) if n else None
        k = KARPENTER.get(full_id)
        lines.append(
            f"| `{full_id}` | {fmt_time(point)} ({fmt_time(lo)} – {fmt_time(hi)}) | "
            f"{f'{rate:,.0f}' if rate else '–'} | {f'{k:,.0f}' if k else '–'} | {f'{rate / k:.1f}×' if rate and k else '–'} |"
        )
    lines += startup_lines()
    notes = ROOT / "docs" / "benchmarks-notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(lines) - 8} benchmarks)")


if __name__ == "__main__":
    main()
