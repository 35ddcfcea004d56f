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
