"""Arguments as users hold them, and errors that name the parameter."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

import karpsim
from conftest import BOUTIQUE, CUSTOM, DIURNAL


def test_catalog_strings_wherever_a_catalog_goes(tmp_path: Path) -> None:
    west = karpsim.Cluster.from_paths(BOUTIQUE, catalog="aws:us-west-2")
    assert west.catalog_name == "aws:us-west-2"
    path = tmp_path / "lab.json"
    path.write_text(CUSTOM)
    for catalog in (str(path), path):
        lab = karpsim.Cluster.from_yaml((BOUTIQUE / "nodepool.yaml").read_text(), catalog=catalog)
        assert lab.catalog_name == str(path)
    with pytest.raises(karpsim.CatalogError, match="known regions"):
        karpsim.Cluster.from_paths(BOUTIQUE, catalog="aws:mars-1")
    with pytest.raises(TypeError, match="catalog"):
        karpsim.Cluster.from_paths(BOUTIQUE, catalog=3)  # type: ignore[arg-type]


def test_missing_paths_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as e:
        karpsim.Cluster.from_paths(tmp_path / "missing")
    assert e.value.filename == str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        karpsim.Scenario.load(tmp_path / "missing.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    cluster = karpsim.Cluster.from_paths(empty)
    assert any("no *.yaml" in w for w in cluster.warnings)
    with pytest.warns(karpsim.KarpsimWarning, match="no \\*.yaml"):
        karpsim.provision(cluster)


def test_durations_and_seeds(short_scenario: karpsim.Scenario) -> None:
    a = karpsim.simulate(short_scenario, duration=datetime.timedelta(minutes=30), progress=False)
    b = karpsim.simulate(short_scenario, duration="30m", progress=False)
    c = karpsim.simulate(short_scenario, duration=0.5, progress=False)
    assert a == b == c and a.duration_hours == 0.5
    for bad in ("forever", datetime.timedelta(0), -1, True):
        with pytest.raises(karpsim.InputError, match="duration") as e:
            karpsim.simulate(short_scenario, duration=bad, progress=False)
        assert e.value.field == "duration"
    with pytest.raises(karpsim.InputError, match="seeds"):
        karpsim.compare(short_scenario, [], seeds=0, progress=False)


def test_errors_name_the_parameter(boutique: karpsim.Cluster) -> None:
    with pytest.raises(karpsim.InputError) as e:
        karpsim.provision(boutique, max_instance_types=0)
    assert e.value.field == "max_instance_types"
    with pytest.raises(TypeError, match="max_instance_types"):
        karpsim.provision(boutique, max_instance_types="many")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cluster"):
        karpsim.provision("examples/online-boutique")  # type: ignore[arg-type]
    with pytest.raises(karpsim.InputError) as e2:
        karpsim.consolidate(boutique, now="soon")
    assert e2.value.field == "now" and "RFC 3339" in str(e2.value)
    with pytest.raises(TypeError, match="scenario"):
        karpsim.simulate(boutique, progress=False)  # type: ignore[arg-type]


def test_import_karpsim_imports_no_pandas_matplotlib_or_dask() -> None:
    code = (
        "import sys, karpsim; "
        "heavy = [m for m in ('pandas', 'matplotlib', 'dask', 'distributed', 'numpy', 'tqdm', 'typing') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported by `import karpsim`: {out.stdout}"
    # every lazily loaded name, issue 15's bound/advise included, loads without pandas or matplotlib
    names = "compare, simulate, sweep, summarize_seeds, Variant, bound, advise, BoundResult, AdviseResult"
    lazy = subprocess.run(
        [sys.executable, "-c", f"import sys, karpsim; [getattr(karpsim, n.strip()) for n in {names!r}.split(',')]; "
         "print('pandas' in sys.modules, 'matplotlib' in sys.modules, 'dask' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )
    assert lazy.stdout.split() == ["False", "False", "False"], "pandas is imported only when a table is built"


def test_scenario_paths_are_relative_to_the_file() -> None:
    sc = karpsim.Scenario.load(DIURNAL)
    assert sc.start.tzinfo is not None
