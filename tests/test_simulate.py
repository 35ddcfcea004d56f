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
    assert list(s) == [
        "time_h", "cost_usd_per_hour", "cost_usd_per_hour_on_demand", "cost_usd_per_hour_spot", "cost_usd_per_hour_reserved",
        "cumulative_cost_usd", "nodes", "pods_running", "pods_pending", "cpu_requested_cores", "cpu_allocatable_cores",
        "memory_requested_gib", "memory_allocatable_gib",
    ]
    lengths = {len(v) for v in s.values()}
    assert len(lengths) == 1 and lengths.pop() > 10
    for v in s.values():
        assert isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1
    assert s["time_h"][-1] == pytest.approx(4.0, abs=0.1)
    # the cumulative cost of the samples ends at the metrics' node cost total
    assert s["cumulative_cost_usd"][-1] == pytest.approx(r.node_cost_total, rel=1e-6)
    assert r.total_cost == pytest.approx(r.node_cost_total, rel=1e-6)
    assert r.duration_hours == pytest.approx(4.0)
    summary = r.summary()
    assert summary["total_cost"] == r.total_cost
    assert summary["seed"] == short_scenario.seed


def test_frames(short_scenario: karpsim.Scenario) -> None:
    r = karpsim.simulate(short_scenario, progress=False)
    df = r.to_pandas()
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "time" and str(df.index.tz) == "UTC"
    assert df.index[0] == pd.Timestamp(r.start) == pd.Timestamp(short_scenario.start)
    assert "nodes" in df.columns and df["nodes"].dtype.kind == "i"
    hourly_mean = df["cost_usd_per_hour"].resample("1h").last()
    assert len(hourly_mean) == 5, "resample works on the clock-time index (4 h: 5 hour bins)"
    assert isinstance(r.to_pandas(index="timedelta").index, pd.TimedeltaIndex)
    assert r.to_pandas(index="hours").index[-1] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="index"):
        r.to_pandas(index="minutes")  # type: ignore[arg-type]
    wide = r.nodes_frame("capacity_type")
    assert len(wide) == len(df.index.unique())
    assert (wide.sum(axis=1).to_numpy() == df.groupby(level=0)["nodes"].last().to_numpy()).all()
    long = r.nodes_frame("nodepool", pivot=False)
    assert list(long.columns) == ["nodepool", "count"] and long.index.name == "time"
    with pytest.raises(karpsim.InputError, match="by"):
        r.nodes_frame("zone")
    ev = r.events_frame()
    assert list(ev.columns) == ["kind", "message"] and len(ev) > 0 and ev.index.name == "time"
    hourly = r.hourly_frame(index="hours")
    assert list(hourly.index) == [0.0, 1.0, 2.0, 3.0, 4.0]
    series = r.to_pandas(index="hours")
    # each hour shows the sample holding then (the last at or before it), as the CLI's hourly table
    at_2h = series.loc[series.index <= 2.0 + 1e-9].iloc[-1]
    assert hourly.loc[2.0, "nodes"] == at_2h["nodes"] and hourly.loc[2.0, "cumulative_cost_usd"] == at_2h["cumulative_cost_usd"]
    w = r.pod_wait_seconds()
    assert w.dtype == np.float64 and len(w) > 0
    assert "SimResult" in repr(r) and "total cost" in r._repr_html_()
    text = str(r)
    assert text.startswith(f"scenario {r.scenario} (seed {r.seed}, 4 h simulated)") and "hourly:" in text


def test_time_weighted_means_are_the_summary(short_scenario: karpsim.Scenario) -> None:
    r = karpsim.simulate(short_scenario, progress=False)
    df = r.to_pandas(index="hours")
    hours = df.index.to_numpy()
    held = np.diff(hours)
    weighted = float((df["nodes"].to_numpy()[:-1] * held).sum() / (hours[-1] - hours[0]))
    assert r.summary()["mean_nodes"] == pytest.approx(weighted)


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
    np.testing.assert_array_equal(back.series()["cost_usd_per_hour"], r.series()["cost_usd_per_hour"])
    assert back == r
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
    import datetime

    assert sc.with_duration(datetime.timedelta(minutes=90)).duration_hours == 1.5
    assert sc.with_duration("90m").duration_hours == 1.5
    assert "Scenario" in repr(sc)


def test_errors() -> None:
    sc = karpsim.Scenario.load(DIURNAL)
    with pytest.raises(karpsim.InputError, match="unknown key"):
        sc.with_changes(instance_size="huge")
    with pytest.raises(karpsim.KarpsimError, match="unknown consolidation policy .*WhenEmptyOrUnderutilized"):
        sc.with_changes(consolidation_policy="Sometimes")
    with pytest.raises(karpsim.InputError, match="duration"):
        sc.with_duration("forever")
    with pytest.raises(FileNotFoundError):
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
    # a whole simulated day: long enough to tell (8 hours took 44-73 ms on a 2-core machine, at the
    # floor below)
    karpsim.simulate(short_scenario.with_duration("24h"), progress=False)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    # while Rust ran, the other thread kept ticking (with the GIL held it would not tick at all)
    assert elapsed > 0.05 and ticks >= 20, (ticks, elapsed)


def test_progress_bar_does_not_change_the_result(short_scenario: karpsim.Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    a = karpsim.simulate(short_scenario, progress=True)
    err = capsys.readouterr().err
    assert "simulate" in err and "4.0/4.0" in err, "the bar counts simulated hours to the end"
    assert a == karpsim.simulate(short_scenario, progress=False)
