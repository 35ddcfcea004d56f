"""The benchmark scripts' reports: `benches/report.py` rewrites docs/benchmarks.md from the results this
machine holds and keeps the tables it holds none for; `benches/startup.py` pairs each command's runs
with the native binary's of the same turn."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benches" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CRITERION_SECTION = """# Benchmarks

Measured 2026-11-27 on: some machine.

| bench | time (95% CI) | pods/s (nodes/s for consolidation) | Karpenter pods/s | × Karpenter |
|---|---|---|---|---|
| `karpenter_shape/diverse/5000` | 96.2 ms (95.9 ms – 96.9 ms) | 51,954 | 1,337 | 38.9× |"""

E2E_SECTION = """## End to end: the `karpsim` command on a file (issue 16)

an old end-to-end table"""


def _startup_doc() -> dict[str, object]:
    def s(ms: float) -> dict[str, float]:
        return {"min_ms": ms, "median_ms": ms, "max_ms": ms}

    case = {
        "native": s(2.0), "native_cpu": s(1.8),
        "pip": s(2.1), "pip_cpu": s(1.9), "pip_minus_native_median_ms": 0.1, "pip_minus_native_cpu_median_ms": 0.1,
        "module": s(20.0), "module_cpu": s(19.0), "module_minus_native_median_ms": 18.0,
        "module_minus_native_cpu_median_ms": 17.2,
    }
    return {"runs": 3, "native": "n", "pip": "p", "module": "py -m karpsim", "load": 0.5, "cores": 2,
            "realtime": False, "cases": {"version": case}}


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = _load("report")
    (tmp_path / "docs").mkdir()
    (tmp_path / "target").mkdir()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "OUT", tmp_path / "docs" / "benchmarks.md")
    monkeypatch.setattr(module, "CRITERION", tmp_path / "target" / "criterion")
    (tmp_path / "docs" / "benchmarks-notes.md").write_text("## Notes (issue 7)\n\nthe notes\n")
    (tmp_path / "docs" / "benchmarks.md").write_text(
        f"{CRITERION_SECTION}\n\n{E2E_SECTION}\n\n## Start-up: the old table\n\nold\n\n## Notes (issue 7)\n\nold notes\n"
    )
    return module


def test_report_keeps_the_tables_it_has_no_results_for(report: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "target" / "startup.json").write_text(json.dumps(_startup_doc()))
    report.main()
    text = (tmp_path / "docs" / "benchmarks.md").read_text()
    # the criterion table and the end-to-end table, measured elsewhere, are kept word for word
    assert text.startswith(CRITERION_SECTION + "\n\n" + E2E_SECTION + "\n\n## Start-up: the ways to run `karpsim`")
    # the start-up table is the new one, with the `python -m karpsim` column and its difference
    assert "## Start-up: the old table" not in text
    assert "| `version` | 2.0 (2.0 – 2.0) | 2.1 (2.1 – 2.1) | +0.1 | 20.0 (20.0 – 20.0) | +18.0 |" in text
    # the notes come from benchmarks-notes.md, once
    assert text.endswith("## Notes (issue 7)\n\nthe notes\n")
    assert "old notes" not in text


def test_report_reads_a_start_up_file_written_before_the_module_column(report: ModuleType, tmp_path: Path) -> None:
    doc = _startup_doc()
    case = doc["cases"]["version"]  # type: ignore[index]
    for key in [k for k in case if k.startswith("module")]:
        del case[key]
    del doc["module"]
    (tmp_path / "target" / "startup.json").write_text(json.dumps(doc))
    lines = report.startup_lines()
    assert lines[-3] == "| command | native wall | pip wall | pip − native wall | native CPU | pip CPU | pip − native CPU |"
    assert lines[-2] == "|---|---|---|---|---|---|---|"
    assert lines[-1] == "| `version` | 2.0 (2.0 – 2.0) | 2.1 (2.1 – 2.1) | +0.1 | 1.8 (1.8 – 1.8) | 1.9 (1.9 – 1.9) | +0.1 |"


def test_startup_pairs_each_command_with_the_native_run_of_its_turn() -> None:
    startup = _load("startup")
    # the machine slows down in the second turn: paired differences see through it, medians would not
    runs = {
        "native": [(0.010, 0.009), (0.030, 0.020), (0.011, 0.010)],
        "pip": [(0.011, 0.009), (0.031, 0.021), (0.012, 0.010)],
        "module": [(0.030, 0.028), (0.050, 0.040), (0.031, 0.030)],
    }
    out = startup.compare(runs)
    assert out["pip_minus_native_median_ms"] == pytest.approx(1.0)
    assert out["module_minus_native_median_ms"] == pytest.approx(20.0)
    assert out["module_minus_native_cpu_median_ms"] == pytest.approx(20.0)
    assert out["native"] == {"min_ms": pytest.approx(10.0), "median_ms": pytest.approx(11.0), "max_ms": pytest.approx(30.0)}
    assert "native_minus_native_median_ms" not in out
