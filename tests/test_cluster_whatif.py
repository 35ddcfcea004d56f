"""What-ifs on a cluster: `Cluster.with_changes` and `karpsim.compare(cluster, ...)`."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import karpsim


def test_with_changes_returns_a_new_cluster(boutique: karpsim.Cluster) -> None:
    arm = boutique.with_changes(arch="arm64")
    assert arm.changes == [("arch", "arm64")] and boutique.changes == []
    r = karpsim.provision(arm)
    assert all("kubernetes.io/arch In [arm64]" in nc["requirements"] for nc in r.nodeclaims)
    assert karpsim.provision(boutique).nodeclaims[0]["instance_type"] != r.nodeclaims[0]["instance_type"]
    both = boutique.with_changes(arch=["amd64", "arm64"], capacity_types="on-demand")
    assert both.changes == [("arch", "amd64+arm64"), ("capacity_types", "on-demand")]
    assert all(nc["capacity_type"] == "on-demand" for nc in karpsim.provision(both).nodeclaims)
    named = boutique.vary({"arch": "arm64"}, name="graviton")
    assert karpsim.provision(named) == r
    assert "changes=[arch=arm64]" in repr(arm) and "arch=arm64" in arm._repr_html_()


def test_prices_and_settings(boutique: karpsim.Cluster) -> None:
    base = karpsim.provision(boutique)
    it = base.nodeclaims[0]["instance_type"]
    cheap = karpsim.provision(boutique.with_changes(price={f"{it}:spot": 0.001}))
    assert cheap.cost_per_hour == pytest.approx(0.001)
    plan = karpsim.provision(boutique.with_changes(capacity_types="on-demand", on_demand_multiplier=0.5))
    full = karpsim.provision(boutique.with_changes(capacity_types="on-demand"))
    assert plan.cost_per_hour == pytest.approx(full.cost_per_hour * 0.5)
    pods = karpsim.provision(boutique.with_changes(max_pods=110))
    assert pods.nodeclaims


def test_typos_name_the_valid_values(boutique: karpsim.Cluster) -> None:
    for changes, hint in [
        ({"arch": "arm"}, 'did you mean "arm64"'),
        ({"capacity_types": "spotty"}, 'did you mean "spot"'),
        ({"instance_families": "M7I"}, 'did you mean "m7i"'),
        ({"instance_families": "m99z"}, "valid: "),
        ({"nodepools": "defualt", "arch": "arm64"}, 'did you mean "default"'),
        ({"capasity_types": "spot"}, 'did you mean "capacity_types"'),
        ({"seed": 3}, "scenarios only"),
    ]:
        with pytest.raises(karpsim.InputError, match=hint) as e:
            boutique.with_changes(**changes)
        assert e.value.field is not None, changes


def test_compare_a_cluster(boutique: karpsim.Cluster) -> None:
    df = karpsim.compare(boutique, [{"name": "graviton", "arch": "arm64"}, {"name": "on-demand", "capacity_types": "on-demand"}], progress=False)
    assert isinstance(df, pd.DataFrame) and df.index.name == "variant"
    assert list(df.index) == ["base", "graviton", "on-demand"]
    assert list(df.columns) == [
        "cost_usd_per_hour", "reservation_cost_usd_per_hour", "new_cost_usd_per_hour", "nodes", "new_nodes", "pods_pending", "cpu_utilization",
        "memory_utilization", "disruptions", "consolidation_savings_usd_per_hour",
    ]
    assert df["nodes"].dtype.kind == "i" and df["pods_pending"].dtype.kind == "i"
    assert df.loc["base", "cost_usd_per_hour"] == pytest.approx(karpsim.provision(boutique).cost_per_hour)
    assert df.loc["graviton", "cost_usd_per_hour"] == pytest.approx(karpsim.provision(boutique.with_changes(arch="arm64")).cost_per_hour)
    grid = karpsim.sweep(boutique, {"arch": ["amd64", "arm64"]}, progress=False)
    assert list(grid.index) == ["base", "arch=amd64", "arch=arm64"]
    assert grid.loc["arch=arm64", "cost_usd_per_hour"] == df.loc["graviton", "cost_usd_per_hour"]
    with pytest.raises(karpsim.InputError, match="seeds"):
        karpsim.compare(boutique, [], seeds=[1], progress=False)
    with pytest.raises(karpsim.InputError, match="run"):
        karpsim.compare(boutique, [], run="simulate", progress=False)  # type: ignore[arg-type]


def test_compare_a_cluster_takes_provisions_options(boutique: karpsim.Cluster) -> None:
    # spot made dear: Karpenter's capacity-type order still launches spot, "cheapest" launches on-demand
    dear_spot = boutique.with_changes(spot_multiplier=10)
    cheapest = karpsim.provision(dear_spot, launch="cheapest").cost_per_hour
    assert cheapest < karpsim.provision(dear_spot).cost_per_hour
    df = karpsim.compare(dear_spot, [karpsim.Variant("arm", arch="arm64")], launch="cheapest", progress=False)
    assert df.loc["base", "cost_usd_per_hour"] == pytest.approx(cheapest)
    arm = karpsim.provision(dear_spot.with_changes(arch="arm64"), launch="cheapest").cost_per_hour
    assert df.loc["arm", "cost_usd_per_hour"] == pytest.approx(arm)
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        on_executor = karpsim.compare(dear_spot, [karpsim.Variant("arm", arch="arm64")], launch="cheapest", executor=ex, progress=False)
    pd.testing.assert_frame_equal(df, on_executor)
    grid = karpsim.sweep(dear_spot, {"arch": ["arm64"]}, launch="cheapest", max_instance_types=5, progress=False)
    assert grid.loc["base", "cost_usd_per_hour"] == pytest.approx(cheapest)
    settled = karpsim.compare(dear_spot, [], run="consolidate", launch="cheapest", progress=False)
    assert settled.loc["base", "new_cost_usd_per_hour"] == pytest.approx(cheapest)
    # the same checks as provision's, naming the argument
    for bad in ({"launch": "cheap"}, {"min_values": "loose"}, {"topology_domains": "zones"}, {"max_instance_types": 0}):
        with pytest.raises(karpsim.InputError) as e:
            karpsim.compare(boutique, [], progress=False, **bad)  # type: ignore[arg-type]
        assert e.value.field == next(iter(bad)), (bad, e.value)


def test_a_scenario_comparison_refuses_provisioning_options(short_scenario: karpsim.Scenario) -> None:
    with pytest.raises(karpsim.InputError, match="launch: applies to cluster comparisons"):
        karpsim.compare(short_scenario, [], launch="cheapest", progress=False)


def test_compare_a_snapshot_until_stable(snapshot: karpsim.Cluster) -> None:
    df = karpsim.compare(snapshot, [{"name": "od", "nodepools": "default", "capacity_types": "on-demand"}], run="consolidate", progress=False)
    stable = karpsim.consolidate(snapshot, until_stable=True)
    assert df.loc["base", "cost_usd_per_hour"] == pytest.approx(stable.cost_per_hour_after)
    assert df.loc["base", "disruptions"] == len(stable.commands)
    assert df.loc["base", "consolidation_savings_usd_per_hour"] == pytest.approx(stable.savings_per_hour)


def test_compare_warns_which_variants_a_round_cap_cut_short(snapshot: karpsim.Cluster) -> None:
    variants = [{"name": "od", "nodepools": "default", "capacity_types": "on-demand"}]
    with pytest.warns(karpsim.KarpsimWarning, match=r"^variants base, od: stopped after 1 rounds \(max_rounds\)"):
        cut = karpsim.compare(snapshot, variants, run="consolidate", max_rounds=1, progress=False)
    assert (cut["disruptions"] <= 1).all()
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(max_workers=2) as ex, pytest.warns(karpsim.KarpsimWarning, match="variants base, od: stopped after 1 rounds"):
        pd.testing.assert_frame_equal(cut, karpsim.compare(snapshot, variants, run="consolidate", max_rounds=1, executor=ex, progress=False))
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        karpsim.compare(snapshot, variants, run="consolidate", progress=False)
    assert not [w for w in seen if "max_rounds" in str(w.message)]
    with pytest.raises(karpsim.InputError) as e:
        karpsim.compare(snapshot, variants, max_rounds=1, progress=False)
    assert e.value.field == "max_rounds"
    with pytest.raises(karpsim.InputError) as e:
        karpsim.compare(snapshot, variants, run="consolidate", max_rounds=0, progress=False)
    assert e.value.field == "max_rounds"


def test_spot_to_spot_is_a_cluster_setting(snapshot: karpsim.Cluster) -> None:
    gate = snapshot.with_changes(spot_to_spot=True)
    assert karpsim.consolidate(gate, until_stable=True) == karpsim.consolidate(snapshot, until_stable=True, spot_to_spot=True)
    assert karpsim.consolidate(gate, until_stable=True, spot_to_spot=False) == karpsim.consolidate(snapshot, until_stable=True)


def test_executors_give_the_same_table(boutique: karpsim.Cluster) -> None:
    import concurrent.futures as cf

    variants = [karpsim.Variant("graviton", arch="arm64")]
    assert variants[0] == {"name": "graviton", "arch": "arm64"}
    rayon = karpsim.compare(boutique, variants, progress=False)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        threads = karpsim.compare(boutique, variants, executor=ex, progress=False)
    pd.testing.assert_frame_equal(rayon, threads)


def test_clusters_pickle_with_their_changes(boutique: karpsim.Cluster, us_east_1: karpsim.Catalog) -> None:
    arm = boutique.with_changes(arch="arm64", on_demand_multiplier=0.7)
    back = pickle.loads(pickle.dumps(arm))
    assert back.changes == arm.changes and back.pod_count == arm.pod_count
    assert karpsim.provision(back) == karpsim.provision(arm)
    from conftest import BOUTIQUE

    filtered = karpsim.Cluster.from_paths(BOUTIQUE, catalog=us_east_1.filter([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7i", "m7g"]}]))
    priced = filtered.with_changes(on_demand_multiplier=0.5)
    assert set(priced.instance_types("default")) <= {t for t in filtered.instance_types("default")}, "the catalog's filter survives a price change"
    again = pickle.loads(pickle.dumps(priced))
    assert again.instance_types("default") == priced.instance_types("default")


def test_a_variant_that_empties_a_pool_warns(boutique: karpsim.Cluster, short_scenario: karpsim.Scenario) -> None:
    # the example NodePools require instance generation > 5: m5 leaves them nothing to launch, and
    # the variant's low cost must not pass for a saving
    why = "variant old: NodePool default can launch nothing: it requires karpenter.k8s.aws/instance-family In [m5]"
    for base in (boutique, short_scenario):
        with pytest.warns(karpsim.KarpsimWarning, match=r"variant old: NodePool default can launch nothing") as record:
            karpsim.compare(base, [karpsim.Variant("old", instance_families="m5")], progress=False)
        assert any(str(w.message).startswith(why) for w in record), [str(w.message) for w in record]
