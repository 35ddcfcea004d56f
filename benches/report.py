#!/usr/bin/env python3
"""Turn criterion's results (target/criterion/**/new/{estimates,benchmark}.json) into docs/benchmarks.md.

With them go the end-to-end table of benches/e2e.py (target/e2e.json) and the start-up table of
benches/startup.py (target/startup.json); a table whose results this machine does not hold is kept
as it stands in docs/benchmarks.md, so that one benchmark can be re-run and reported alone.

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
    # before branch `pipnative`'s successor, the file held two commands (native, pip) and no `module`
    others = [name for name in ("pip", "module") if name in doc]
    out = [
        "",
        "## Start-up: the ways to run `karpsim`, against the native binary",
        "",
        f"`python3 benches/startup.py{' --realtime' if doc.get('realtime') else ''}`: {doc['runs']} runs of each, "
        "in turn, whole processes timed from the parent "
        f"(load average {doc.get('load', float('nan')):.1f} on {doc.get('cores', '?')} cores when measured"
        + (
            "; the commands ran at real-time priority, so other jobs did not delay them: the figures are their own "
            "cost, as on a quiet machine"
            if doc.get("realtime")
            else ""
        )
        + "). `native` is the release binary, `pip` the `karpsim` that `pip install` puts in the environment (the "
        "native binary of the `karpsim-cli` wheel), `module` is `python -m karpsim` (the command inside CPython). "
        "Target: the pip-installed command within 30 ms of the native binary. Milliseconds, median (min – max); "
        "a difference is the median of the paired differences with the native run of the same turn. CPU is user + "
        "system time, which other jobs on the machine inflate less than wall time.",
        "",
        "| command | native wall | " + " | ".join(f"{n} wall | {n} − native wall" for n in others) + " | native CPU | "
        + " | ".join(f"{n} CPU | {n} − native CPU" for n in others) + " |",
        "|---|---|" + "---|---|" * len(others) + "---|" + "---|---|" * len(others),
    ]

    def cell(s: dict) -> str:
        return f"{s['median_ms']:.1f} ({s['min_ms']:.1f} – {s['max_ms']:.1f})"

    for case, r in doc["cases"].items():
        wall = " | ".join(f"{cell(r[n])} | {r[f'{n}_minus_native_median_ms']:+.1f}" for n in others)
        if "native_cpu" in r:
            cpu = f"{cell(r['native_cpu'])} | " + " | ".join(
                f"{cell(r[f'{n}_cpu'])} | {r[f'{n}_minus_native_cpu_median_ms']:+.1f}" for n in others
            )
        else:
            cpu = " | ".join(["–"] * (1 + 2 * len(others)))
        out.append(f"| `{case}` | {cell(r['native'])} | {wall} | {cpu} |")
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


def kept_section(heading: str) -> list[str]:
    """The section of the current docs/benchmarks.md that starts with `heading` (up to the next `## `
    heading), for a table whose results this machine does not hold: regenerating one table (say the
    end-to-end one after `benches/e2e.py`) keeps the others as they were measured, with their dates."""
    if not OUT.exists():
        return []
    lines = OUT.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def criterion_lines() -> list[str]:
    """The criterion table, dated by its newest result file (not by today: a table regenerated for
    another section keeps the date its figures were measured)."""
    results = sorted(CRITERION.glob("**/new/estimates.json")) if CRITERION.exists() else []
    if not results:
        return kept_section("# Benchmarks")
    when = datetime.date.fromtimestamp(max(p.stat().st_mtime for p in results)).isoformat()
    lines = [
        "# Benchmarks",
        "",
        f"Measured {when} on: {machine()}.",
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
    return lines


def main() -> None:
    # each generated table from this machine's results, or as it stands in the file when they are absent
    lines = criterion_lines()
    for generated, heading in ((e2e_lines(), "## End to end"), (startup_lines(), "## Start-up")):
        kept = kept_section(heading)
        lines += generated or ([""] + kept if kept else [])
    notes = ROOT / "docs" / "benchmarks-notes.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
