from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import karpsim
from conftest import DIURNAL


def test_series_are_numpy_columns(short_scenario: karpsim.Scenario) -> None:
    r = karpsim.simulate(short_scenario, progress=False)
    s = r.series()
    assert "time_h" in s and "cost_per_hour" in s and "cumulative_cost" in s
    lengths = {len(v) for v in s.values()}
    assert len(lengths) == 1 and lengths.pop() > 10
    for v in s.values():
        assert isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1
    assert s["time_h"][-1] == pytest.approx(4.0, abs=0.1)
    # the cumulative cost of the samples ends at the metrics' node cost total
    assert s["cumulative_cost"][-1] == pytest.approx(r.node_cost_total, rel=1e-6)
    assert r.total_cost == pytest.approx(r.node_cost_total, rel=1e-6)
    assert r.duration_hours == pytest.approx(4.0)
    summary = r.summary()
    assert summary["total_cost"] == r.total_cost
    assert summary["seed"] == short_scenario.seed


def test_frames(short_scenario: karpsim.Scenario) -> None:
    r = karpsim.simulate(short_scenario, progress=False)
    df = r.to_pandas()
    assert df.index.name == "time_h" and "nodes" in df.columns
    wide = r.nodes_by("capacity_type")
    assert len(wide) == len(df.index.unique())
    assert (wide.sum(axis=1).to_numpy() == df.groupby(level=0)["nodes"].last().to_numpy()).all()
    long = r.nodes_by("nodepool", pivot=False)
    assert list(long.columns) == ["time_h", "nodepool", "count"]
    with pytest.raises(karpsim.InputError, match="kind"):
        r.nodes_by("zone")
    ev = r.events()
    assert list(ev.columns) == ["time_h", "kind", "message"] and len(ev) > 0
    w = r.pod_wait_seconds()
    assert w.dtype == np.float64 and len(w) > 0
    assert "SimResult" in repr(r) and "total cost" in r._repr_html_()


def test_deterministic_per_seed(short_scenario: karpsim.Scenario) -> None:
    a = karpsim.simulate(short_scenario, progress=False).series()
    b = karpsim.simulate(short_scenario, progress=False).series()
    c = karpsim.simulate(short_scenario, seed=7, progress=False).series()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert any(len(a[k]) != len(c[k]) or not np.array_equal(a[k], c[k]) for k in a)


def test_pickles(short_scenario: karpsim.Scenario) -> None:
    r = karpsim.simulate(short_scenario, progress=False)
    back = pickle.loads(pickle.dumps(r))
    assert back.to_json() == r.to_json()
    np.testing.assert_array_equal(back.series()["cost_per_hour"], r.series()["cost_per_hour"])
    sc = short_scenario.with_changes(capacity_types="spot", max_pods=58).with_seed(3)
    sc2 = pickle.loads(pickle.dumps(sc))
    assert (sc2.name, sc2.seed, sc2.duration_hours, sc2.changes) == (sc.name, sc.seed, sc.duration_hours, sc.changes)
    assert karpsim.simulate(sc2, progress=False).to_json() == karpsim.simulate(sc, progress=False).to_json()


def test_scenario_from_yaml_and_changes() -> None:
    text = DIURNAL.read_text()
    sc = karpsim.Scenario.from_yaml(text, base_dir=DIURNAL.parent)
    assert sc.name == "diurnal-web" and sc.seed == 42 and sc.duration_hours == 24
    assert "default" in sc.nodepools and sc.workloads
    v = sc.vary({"capacity_types": ["spot", "on-demand"]}, name="mixed")
    assert v.name == "diurnal-web [mixed]"
    assert v.changes == [("capacity_types", "spot+on-demand")]
    assert sc.with_changes(seed=9).seed == 9
    assert sc.with_duration(2).duration_hours == 2
    assert "Scenario" in repr(sc)


def test_errors() -> None:
    sc = karpsim.Scenario.load(DIURNAL)
    with pytest.raises(karpsim.InputError, match="unknown key"):
        sc.with_changes(instance_size="huge")
    with pytest.raises(karpsim.KarpsimError, match="expected"):
        sc.with_changes(consolidation_policy="Sometimes")
    with pytest.raises(karpsim.InputError, match="duration"):
        sc.with_duration("forever")
    with pytest.raises(karpsim.KarpsimError):
        karpsim.Scenario.load("does/not/exist.yaml")
    with pytest.raises(karpsim.InputError):
        karpsim.Scenario.from_yaml("name: x\nworkloads: 3\n")


def test_bad_scenario_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nduration: -5h\nmanifests: []\n")
    with pytest.raises(karpsim.InputError) as e:
        karpsim.Scenario.load(bad)
    assert "bad.yaml" in str(e.value)


def test_simulate_releases_the_gil(short_scenario: karpsim.Scenario) -> None:
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    karpsim.simulate(short_scenario.with_duration("8h"), progress=False)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    # while Rust ran, the other thread kept ticking (with the GIL held it would not tick at all)
    assert elapsed > 0.05 and ticks >= 20, (ticks, elapsed)


def test_progress_bar_does_not_change_the_result(short_scenario: karpsim.Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    a = karpsim.simulate(short_scenario, progress=True)
    err = capsys.readouterr().err
    assert "simulate" in err
    assert a.to_json() == karpsim.simulate(short_scenario, progress=False).to_json()
