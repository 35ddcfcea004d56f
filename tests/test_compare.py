from __future__ import annotations

import concurrent.futures as cf

import pandas as pd
import pytest

import karpsim

VARIANTS = [
    {"name": "base"},
    {"name": "spot", "capacity_types": "spot"},
    ("on-demand", {"capacity_types": "on-demand"}),
]


@pytest.fixture(scope="module")
def rayon_table(short_scenario: karpsim.Scenario) -> pd.DataFrame:
    return karpsim.compare(short_scenario, VARIANTS, seeds=[1, 2], progress=False)


def test_table_shape(rayon_table: pd.DataFrame) -> None:
    df = rayon_table
    assert list(df["variant"]) == ["base", "base", "spot", "spot", "on-demand", "on-demand"]
    assert list(df["seed"]) == [1, 2] * 3
    assert {"total_cost", "mean_nodes", "pod_wait_p95_s", "cpu_utilization"} <= set(df.columns)
    by = df.groupby("variant")["total_cost"].mean()
    assert by["spot"] < by["on-demand"]


def test_same_as_single_runs(short_scenario: karpsim.Scenario, rayon_table: pd.DataFrame) -> None:
    r = karpsim.simulate(short_scenario.with_changes(capacity_types="spot"), seed=2, progress=False)
    row = rayon_table[(rayon_table.variant == "spot") & (rayon_table.seed == 2)].iloc[0]
    assert row["total_cost"] == r.total_cost


def test_thread_pool_gives_the_same_table(short_scenario: karpsim.Scenario, rayon_table: pd.DataFrame) -> None:
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        df = karpsim.compare(short_scenario, VARIANTS, seeds=[1, 2], executor=ex, progress=False)
    pd.testing.assert_frame_equal(df, rayon_table)


def test_dask_gives_the_same_table(short_scenario: karpsim.Scenario, rayon_table: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        df = karpsim.compare(short_scenario, VARIANTS, seeds=[1, 2], executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(df, rayon_table)


def test_summarize_seeds(rayon_table: pd.DataFrame) -> None:
    s = karpsim.summarize_seeds(rayon_table)
    assert list(s.index) == ["base", "spot", "on-demand"]
    assert (s["seeds"] == 2).all()
    mean = rayon_table.groupby("variant", sort=False)["total_cost"].mean()
    assert s["total_cost_mean"].to_numpy() == pytest.approx(mean.to_numpy())
    assert (s["total_cost_ci95"] >= 0).all()


def test_sweep_grid(short_scenario: karpsim.Scenario) -> None:
    sc = short_scenario.with_duration("2h")
    df = karpsim.sweep(sc, {"capacity_types": ["spot", "on-demand"], "max_pods": [29, 58]}, progress=False)
    assert list(df["variant"]) == [
        "capacity_types=spot,max_pods=29",
        "capacity_types=spot,max_pods=58",
        "capacity_types=on-demand,max_pods=29",
        "capacity_types=on-demand,max_pods=58",
    ]
    cli_style = karpsim.sweep(sc, ["capacity_types=spot,on-demand"], progress=False, include_base=True)
    assert list(cli_style["variant"]) == ["base", "capacity_types=spot", "capacity_types=on-demand"]


def test_bad_variants(short_scenario: karpsim.Scenario) -> None:
    with pytest.raises(karpsim.InputError, match="unknown key"):
        karpsim.compare(short_scenario, [{"name": "x", "instance_size": "huge"}], progress=False)
    with pytest.raises(karpsim.InputError, match="duplicate"):
        karpsim.compare(short_scenario, [{"name": "a"}, {"name": "a"}], progress=False)
    with pytest.raises(karpsim.InputError, match="variants"):
        karpsim.compare(short_scenario, ["spot"], progress=False)  # type: ignore[list-item]
    with pytest.raises(karpsim.InputError, match="unknown key"):
        karpsim.sweep(short_scenario, ["size=1,2"], progress=False)


def test_progress_bar(short_scenario: karpsim.Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    karpsim.compare(short_scenario.with_duration("1h"), [{"name": "a"}, {"name": "b", "max_pods": 58}], progress=True, chunk_size=1)
    assert "2/2" in capsys.readouterr().err


def test_vary_keys() -> None:
    keys = dict(karpsim.vary_keys())
    assert "capacity_types" in keys and "max_pods" in keys
