"""Uses the public API the way a user would; checked with `mypy --strict` (not run)."""

from __future__ import annotations

import datetime

import pandas as pd

import karpsim


def study(paths: list[str]) -> tuple[float, pd.DataFrame]:
    catalog = karpsim.Catalog.aws("us-east-1", on_demand_multiplier=0.72, prices={"m5.large": {"spot": 0.03}, "m7g:on-demand": 0.05})
    graviton = catalog.filter([{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}])
    cluster = karpsim.Cluster.from_paths(*paths, catalog=graviton)
    west = karpsim.Cluster.from_paths(*paths, catalog="aws:us-west-2")
    result: karpsim.ProvisionResult = karpsim.provision(cluster, launch="cheapest")
    names: list[str] = [n["instance_type"] for n in result.nodeclaims]
    try:
        karpsim.Cluster.from_yaml("kind: Pod")
    except karpsim.InputError as e:
        field: str | None = e.field
        print(field, names, west.catalog_name, str(result))
    return result.cost_per_hour, result.to_pandas()


def what_ifs(cluster: karpsim.Cluster) -> pd.DataFrame:
    arm: karpsim.Cluster = cluster.with_changes(arch="arm64", capacity_types=["spot", "on-demand"], max_pods=110)
    print(karpsim.provision(arm).pods_frame())
    # a list of mixed variants, without annotations
    variants = [karpsim.Variant("graviton", arch="arm64"), karpsim.Variant("big pods", max_pods=110), karpsim.Variant("no spot", capacity_types="on-demand")]
    table = karpsim.compare(cluster, variants, run="consolidate", launch="cheapest", max_instance_types=20)
    bound = karpsim.bound(cluster, time_limit="2m")
    print(bound.summary_frame()["cost_usd_per_hour"], bound.to_pandas()["price_usd_per_hour"].sum(), str(bound))
    inline = karpsim.compare(cluster, [{"name": "m7i", "instance_families": ["m7i"]}, {"name": "plan", "on_demand_multiplier": 0.72}])
    return pd.concat([table, inline, karpsim.sweep(cluster, {"arch": ["amd64", "arm64"]})])


def simulation_study(path: str) -> pd.DataFrame:
    sc = karpsim.Scenario.load(path).with_duration(datetime.timedelta(hours=6))
    spot = sc.with_changes(capacity_types="spot", max_pods=58)
    r: karpsim.SimResult = karpsim.simulate(spot, seed=3, duration="90m", progress=False)
    series = r.series()
    cost: float = float(series["cost_usd_per_hour"].sum()) + r.total_cost
    hourly: pd.DataFrame = r.to_pandas().resample("1h").mean()
    print(cost, r.summary()["pod_wait_p95_s"], r.nodes_frame("capacity_type").shape, r.hourly_frame().shape, hourly.shape, r.start)
    table = karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}, ("od", {"capacity_types": "on-demand"})], seeds=3)
    grid = karpsim.sweep(sc, {"max_pods": [29, 58]}, progress=False)
    return karpsim.summarize_seeds(pd.concat([table, grid]))


def consolidation_study(cluster: karpsim.Cluster) -> float:
    when = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.timezone.utc)
    r: karpsim.ConsolidationResult = karpsim.consolidate(cluster, until_stable=True, now=when)
    end = r.end_state
    print(len(r.commands), None if end is None else len(end["nodes"]), r.to_pandas().shape, r.end_state_frame().shape, r == r)
    return r.savings_per_hour
