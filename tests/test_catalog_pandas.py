from __future__ import annotations

import pandas as pd
import pytest

import karpsim
from conftest import BOUTIQUE


def test_from_pandas_builds_a_custom_catalog() -> None:
    df = pd.DataFrame(
        {
            "name": ["small", "big"],
            "cpu": [2, 8],
            "memory": ["4Gi", 32 * 2**30],
            "pods": [20, 110],
            "on_demand_price": [0.10, 0.50],
            "spot_price": [0.04, float("nan")],
            "zones": ["lab-1a,lab-1b", ["lab-1a"]],
            "arch": ["amd64", "arm64"],
            "label:size": ["small", "big"],
        }
    )
    cat = karpsim.Catalog.from_pandas(df, name="lab", region="lab-1")
    assert cat.name == "lab" and cat.region == "lab-1"
    assert sorted(cat.instance_types()) == ["big", "small"]
    back = cat.to_pandas()
    assert back.loc["small", "spot_price_usd_per_hour"] == pytest.approx(0.04)
    assert pd.isna(back.loc["big", "spot_price_usd_per_hour"])
    assert back.loc["big", "arch"] == "arm64"
    assert back.loc["small", "zones"] == ["lab-1a", "lab-1b"]
    assert back.loc["big", "memory_gib"] == 32.0


def test_aws_frame_round_trips_and_provisions() -> None:
    aws = karpsim.Catalog.aws("us-east-1").to_pandas()
    subset = aws.loc[aws["family"].isin(["m7i", "c7i", "r7i"])]
    cat = karpsim.Catalog.from_pandas(subset)
    again = cat.to_pandas()
    assert set(again.index) == set(subset.index)
    for col in ("on_demand_price_usd_per_hour", "allocatable_cpu_cores", "allocatable_memory_gib", "memory_gib", "cpu_cores"):
        assert again.loc["m7i.large", col] == pytest.approx(subset.loc["m7i.large", col]), col
    result = karpsim.provision(karpsim.Cluster.from_paths(BOUTIQUE, catalog=cat))
    assert result.nodeclaims and not result.unschedulable


def test_from_pandas_errors() -> None:
    with pytest.raises(karpsim.InputError, match="memory"):
        karpsim.Catalog.from_pandas(pd.DataFrame({"name": ["x"], "cpu": [2], "price": [0.1]}))
    with pytest.raises(karpsim.CatalogError):
        karpsim.Catalog.from_pandas(pd.DataFrame({"name": ["x"], "cpu": [-2], "memory": ["1Gi"], "price": [0.1]}))
