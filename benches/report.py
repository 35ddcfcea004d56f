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
        f"`python3 benches/startup.py{' --realtime' if doc.get('realtime') else ''}`: {doc['runs']} runs of each, "
        "alternating, whole processes timed from the parent "
        f"(load average {doc.get('load', float('nan')):.1f} on {doc.get('cores', '?')} cores when measured"
        + (
            "; the commands ran at real-time priority, so other jobs did not delay them: the figures are their own "
            "cost, as on a quiet machine"
            if doc.get("realtime")
            else ""
        )
        + "). Target: the pip "
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


def e2e_lines() -> list[str]:
    """The end-to-end table of benches/e2e.py (target/e2e.json), if it was run."""
    path = ROOT / "target" / "e2e.json"
    if not path.exists():
        return []
    doc = json.loads(path.read_text())
    load = doc.get("load_1_5_15", [float("nan")] * 3)
    out = [
        "",
        "## End to end: the `karpsim` command on a file (issue 16)",
        "",
        f"`python3 benches/e2e.py` ({doc.get('when', '?')}): each row is a whole process timed from the parent, "
        "start-up, reading and parsing the files, building the state, the solve and printing the JSON result "
        f"included; seconds, median (min – max) of the runs shown; peak resident memory of the process. Load "
        f"average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {doc.get('cores', '?')} cores when it finished. "
        "The solve-only figures are the criterion table above.",
        "",
        "| row | command | runs | wall s, median (min – max) | CPU s | peak MiB | target | pip-installed command |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def cell(r: dict) -> str:
        if "timed_out_s" in r:
            return f"stopped after {r['timed_out_s']:.0f} s"
        return f"{r['median_s']:.3g} ({r['min_s']:.3g} – {r['max_s']:.3g})"

    for name, row in doc["rows"].items():
        r = row["native"]
        target = f"≤ {row['target_s']:g} s" if row.get("target_s") else (f"≤ {row['target_mib']} MiB" if row.get("target_mib") else "–")
        pip = cell(row["pip"]) if "pip" in row else "–"
        cpu = f"{r['cpu_median_s']:.3g}" if "cpu_median_s" in r else "–"
        out.append(f"| {row['what']} | `{row['command']}` | {r.get('runs', '?')} | {cell(r)} | {cpu} | {r['peak_mib']:.0f} | {target} | {pip} |")
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
    lines += e2e_lines()
    lines += startup_lines()
    notes = ROOT / "docs" / "benchmarks-notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(lines) - 8} benchmarks)")


if __name__ == "__main__":
    main()
