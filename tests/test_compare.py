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
    assert df.index.names == ["variant", "seed"]
    assert list(df.index) == [("base", 1), ("base", 2), ("spot", 1), ("spot", 2), ("on-demand", 1), ("on-demand", 2)]
    assert list(df.columns) == [
        "total_cost_usd", "mean_cost_usd_per_hour", "mean_nodes", "cpu_utilization", "memory_utilization", "pod_wait_p50_s",
        "pod_wait_p95_s", "pod_wait_p99_s", "disruptions", "interruptions", "evictions", "pending_at_end",
    ]
    for c in ("disruptions", "interruptions", "evictions", "pending_at_end"):
        assert df[c].dtype.kind == "i", c
    assert ((df["cpu_utilization"] >= 0) & (df["cpu_utilization"] <= 1)).all(), "fractions, not percent"
    by = df.groupby(level="variant")["total_cost_usd"].mean()
    assert by["spot"] < by["on-demand"]


def test_same_as_single_runs(short_scenario: karpsim.Scenario, rayon_table: pd.DataFrame) -> None:
    r = karpsim.simulate(short_scenario.with_changes(capacity_types="spot"), seed=2, progress=False)
    assert rayon_table.loc[("spot", 2), "total_cost_usd"] == r.total_cost


def test_the_base_comes_first_by_default(short_scenario: karpsim.Scenario) -> None:
    sc = short_scenario.with_duration("1h")
    df = karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}], progress=False)
    assert list(df.index.get_level_values("variant")) == ["base", "spot"]
    assert list(df.index.get_level_values("seed")) == [sc.seed] * 2
    alone = karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}], include_base=False, progress=False)
    assert list(alone.index.get_level_values("variant")) == ["spot"]
    three = karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}], seeds=3, progress=False)
    assert list(three.index.get_level_values("seed")) == [0, 1, 2, 0, 1, 2], "seeds=N runs 0..N-1 as the CLI"


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
    mean = rayon_table.groupby(level="variant", sort=False)["total_cost_usd"].mean()
    assert s["total_cost_usd_mean"].to_numpy() == pytest.approx(mean.to_numpy())
    assert (s["total_cost_usd_ci95"] >= 0).all()


def test_sweep_grid(short_scenario: karpsim.Scenario) -> None:
    sc = short_scenario.with_duration("2h")
    df = karpsim.sweep(sc, {"capacity_types": ["spot", "on-demand"], "max_pods": [29, 58]}, progress=False)
    assert list(df.index.get_level_values("variant")) == [
        "base",
        "capacity_types=spot,max_pods=29",
        "capacity_types=spot,max_pods=58",
        "capacity_types=on-demand,max_pods=29",
        "capacity_types=on-demand,max_pods=58",
    ]
    cli_style = karpsim.sweep(sc, ["capacity_types=spot,on-demand"], progress=False, include_base=False)
    assert list(cli_style.index.get_level_values("variant")) == ["capacity_types=spot", "capacity_types=on-demand"]


def test_bad_variants(short_scenario: karpsim.Scenario) -> None:
    with pytest.raises(karpsim.InputError, match="unknown key") as e:
        karpsim.compare(short_scenario, [{"name": "x", "instance_size": "huge"}], progress=False)  # type: ignore[typeddict-unknown-key]
    assert "did you mean \"instance_sizes\"" in str(e.value)
    for typo, hint in [({"arch": "arm"}, "arm64"), ({"capacity_types": "spotty"}, "spot"), ({"instance_families": "M7I"}, "m7i")]:
        with pytest.raises(karpsim.InputError, match=f"did you mean \"{hint}\"") as e:
            karpsim.compare(short_scenario, [typo], progress=False)
        assert e.value.field is not None and e.value.field.startswith(next(iter(typo)))
    with pytest.raises(karpsim.InputError, match="duplicate"):
        karpsim.compare(short_scenario, [{"name": "a"}, {"name": "a"}], progress=False)
    with pytest.raises(karpsim.InputError, match="variants"):
        karpsim.compare(short_scenario, ["spot"], progress=False)  # type: ignore[list-item]
    with pytest.raises(karpsim.InputError, match="unknown key"):
        karpsim.sweep(short_scenario, ["size=1,2"], progress=False)


def test_progress_bar(short_scenario: karpsim.Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    karpsim.compare(short_scenario.with_duration("1h"), [{"name": "a"}, {"name": "b", "max_pods": 58}], progress=True, chunk_size=1)
    assert "3/3" in capsys.readouterr().err


def test_vary_keys() -> None:
    keys = dict(karpsim.vary_keys())
    assert "capacity_types" in keys and "max_pods" in keys
