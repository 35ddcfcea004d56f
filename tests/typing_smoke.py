"""Uses the public API the way a user would; checked with `mypy --strict` (not run)."""

from __future__ import annotations

import pandas as pd

import karpsim


def study(paths: list[str]) -> tuple[float, pd.DataFrame]:
    catalog = karpsim.Catalog.aws("us-east-1", on_demand_multiplier=0.72, prices={"m5.large": {"spot": 0.03}})
    graviton = catalog.filter([{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}])
    cluster = karpsim.Cluster.from_paths(*paths, catalog=graviton)
    result: karpsim.ProvisionResult = karpsim.provision(cluster, launch="cheapest")
    names: list[str] = [n["instance_type"] for n in result.nodeclaims]
    try:
        karpsim.Cluster.from_yaml("kind: Pod")
    except karpsim.InputError as e:
        field: str | None = e.field
        print(field, names)
    return result.cost_per_hour, result.to_pandas()


def simulation_study(path: str) -> pd.DataFrame:
    sc = karpsim.Scenario.load(path).with_duration("6h")
    spot = sc.with_changes(capacity_types="spot", max_pods=58)
    r: karpsim.SimResult = karpsim.simulate(spot, seed=3, progress=False)
    series = r.series()
    cost: float = float(series["cost_per_hour"].sum()) + r.total_cost
    print(cost, r.summary()["pod_wait_p95_s"], r.nodes_by("capacity_type").shape)
    table = karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}, ("od", {"capacity_types": "on-demand"})], seeds=[1, 2])
    grid = karpsim.sweep(sc, {"max_pods": [29, 58]}, progress=False)
    return karpsim.summarize_seeds(pd.concat([table, grid]))


def consolidation_study(cluster: karpsim.Cluster) -> float:
    r: karpsim.ConsolidationResult = karpsim.consolidate(cluster, until_stable=True)
    end = r.end_state
    print(len(r.commands), None if end is None else len(end["nodes"]), r.to_pandas().shape)
    return r.savings_per_hour
