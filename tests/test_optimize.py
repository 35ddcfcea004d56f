"""karpsim.bound and karpsim.advise: the proven lower bound, the packing, the advisor's manifests."""

from __future__ import annotations

import pytest

import karpsim

from conftest import ROOT

BOUND = ROOT / "examples" / "bound"
DAEMONSET = ROOT / "examples" / "online-boutique" / "kube-prometheus-node-exporter-daemonset.yaml"


@pytest.fixture(scope="module")
def two_shapes() -> karpsim.Cluster:
    return karpsim.Cluster.from_paths(BOUND / "two-shapes.yaml", BOUND / "nodepool-all-types.yaml", DAEMONSET)


def test_bound_orders_the_costs(two_shapes: karpsim.Cluster) -> None:
    r = karpsim.bound(two_shapes)
    assert 0 < r.lower_bound_per_hour <= r.best_packing_cost_per_hour <= r.karpenter_cost_per_hour
    assert r.after_consolidation_cost_per_hour is not None
    assert r.lower_bound_per_hour <= r.after_consolidation_cost_per_hour
    assert r.gap is not None and r.gap >= 1.0
    packing = r.to_pandas()
    assert packing["pods"].sum() == 400
    assert packing["price_usd_per_hour"].sum() == pytest.approx(r.best_packing_cost_per_hour)
    summary = r.summary_frame()
    assert list(summary.index) == ["karpenter", "after consolidation", "best packing found", "lower bound (proven)"]
    assert "topology spread constraints" in r.data["constraints"]["relaxed"]


def test_bound_rejects_bad_options(two_shapes: karpsim.Cluster) -> None:
    with pytest.raises(karpsim.InputError, match="launch"):
        karpsim.bound(two_shapes, launch="fastest")
    with pytest.raises(karpsim.InputError, match="time_limit"):
        karpsim.bound(two_shapes, time_limit=0)
    with pytest.raises(karpsim.InputError, match="time_limit"):
        karpsim.bound(two_shapes, time_limit="soon")


def test_advise_recommendation_reproduces_its_cost(two_shapes: karpsim.Cluster) -> None:
    r = karpsim.advise(two_shapes, max_candidates=30, top=3)
    best = r.recommendations[0]
    assert best["pending"] == 0
    assert best["cost_per_hour"] < r.baseline["cost_per_hour"]
    assert best["vs_lower_bound"] <= 1.25
    # the manifests, with the same pods, give the same provisioning cost
    workload = (BOUND / "two-shapes.yaml").read_text() + "\n---\n" + DAEMONSET.read_text()
    nodeclass = (BOUND / "nodepool-all-types.yaml").read_text().split("---", 1)[1]
    again = karpsim.Cluster.from_yaml(workload + "\n---\n" + best["nodepools_yaml"] + "\n---\n" + nodeclass)
    assert karpsim.provision(again).cost_per_hour == pytest.approx(best["cost_per_hour"])
    assert list(r.to_pandas().index)[0] == "baseline"


def test_bound_and_advise_results_follow_the_package_pattern(two_shapes: karpsim.Cluster) -> None:
    import datetime
    import pickle
    import warnings

    import pandas as pd

    # warnings reach the user when the result is made, as for every other result
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = karpsim.bound(two_shapes, time_limit=datetime.timedelta(minutes=10))
    assert r.warnings, "the catalog's missing spot prices are reported"
    ours = [w for w in caught if issubclass(w.category, karpsim.KarpsimWarning)]
    assert {str(w.message) for w in ours} == set(r.warnings)
    assert all(w.filename == __file__ for w in ours), "they point at the caller's line"
    assert f"warnings={len(r.warnings)}" in repr(r)
    # str is the CLI's report, warnings last; the notebook view has units and the warnings
    report = str(r)
    assert report.startswith("bound over the pending pods") and "lower bound (proven)" in report, report
    assert f"warning: {r.warnings[0]}" in report
    html = r._repr_html_()
    assert "USD/h" in html and "lower bound" in html and r.warnings[0].split()[0] in html
    # units in the column names, counts as integers
    summary = r.summary_frame()
    assert list(summary.columns) == ["cost_usd_per_hour", "nodes", "vs_lower_bound"]
    assert str(summary["nodes"].dtype) == "Int64" and pd.isna(summary.loc["lower bound (proven)", "nodes"])
    packing = r.to_pandas()
    assert packing.index.name == "node" and packing.index[0] == 1 and packing["pods"].dtype.kind == "i"
    # values: pickles, equality
    assert pickle.loads(pickle.dumps(r)) == r and str(pickle.loads(pickle.dumps(r))) == report
    assert karpsim.bound(two_shapes, time_limit="10m") == r, "deterministic, a duration string as limit"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = karpsim.advise(two_shapes, max_candidates=10, top=2)
    assert {str(w.message) for w in caught if issubclass(w.category, karpsim.KarpsimWarning)} == set(a.warnings)
    assert str(a).startswith("lower bound $") and "recommendation 1:" in str(a)
    table = a.to_pandas()
    assert list(table.columns) == [
        "name", "cost_usd_per_hour", "after_consolidation_cost_usd_per_hour", "vs_lower_bound", "nodes", "pending", "disruptions",
    ]
    assert str(table["nodes"].dtype) == "Int64" and str(table["pending"].dtype) == "Int64"
    assert "after consolidation USD/h" in a._repr_html_()
    assert pickle.loads(pickle.dumps(a)) == a


def test_bound_and_advise_take_provisions_keywords(two_shapes: karpsim.Cluster) -> None:
    # Karpenter's run inside `bound` is the run `provision` makes with the same keywords
    for kw in ({}, {"launch": "cheapest"}, {"max_instance_types": 1}, {"topology_domains": "launchable"}):
        r = karpsim.bound(two_shapes, consolidate=False, max_iterations=3, **kw)
        assert r.karpenter_cost_per_hour == pytest.approx(karpsim.provision(two_shapes, **kw).cost_per_hour), kw
    with pytest.raises(karpsim.InputError, match="topology_domains"):
        karpsim.bound(two_shapes, topology_domains="everywhere")
    with pytest.raises(karpsim.InputError, match="topology_domains"):
        karpsim.advise(two_shapes, topology_domains="everywhere")
    cheapest = karpsim.advise(two_shapes, max_candidates=3, top=1, consolidate=False, launch="cheapest")
    assert cheapest.baseline["cost_per_hour"] == pytest.approx(karpsim.provision(two_shapes, launch="cheapest").cost_per_hour)


def test_advise_on_an_executor_gives_the_rayon_result(two_shapes: karpsim.Cluster) -> None:
    import concurrent.futures as cf
    import multiprocessing

    on_rayon = karpsim.advise(two_shapes, max_candidates=12, top=12)
    # worker processes get the cluster pickled; every candidate of a round is one task
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as ex:
        on_processes = karpsim.advise(two_shapes, max_candidates=12, top=12, executor=ex)
    assert on_processes.data == on_rayon.data
    assert str(on_processes) == str(on_rayon)
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        assert karpsim.advise(two_shapes, max_candidates=12, top=12, executor=ex).data == on_rayon.data
    # the executor's own error is raised as it is
    ex = cf.ThreadPoolExecutor(max_workers=1)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        karpsim.advise(two_shapes, max_candidates=12, executor=ex)
