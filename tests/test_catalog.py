from __future__ import annotations

import math
from pathlib import Path

import pytest

import karpsim
from conftest import CUSTOM

ARM = [{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]


def test_aws_catalog(us_east_1: karpsim.Catalog) -> None:
    assert us_east_1.name == "aws:us-east-1"
    assert us_east_1.region == "us-east-1"
    assert len(us_east_1) > 1000
    assert "m5.large" in us_east_1
    names = us_east_1.instance_types()
    assert names == sorted(names) and len(names) == len(us_east_1)
    assert "us-east-1" in karpsim.aws_regions()
    assert "Catalog aws:us-east-1" in repr(us_east_1)


def test_to_pandas_known_values(us_east_1: karpsim.Catalog) -> None:
    df = us_east_1.to_pandas()
    assert len(df) == len(us_east_1)
    for col in ["family", "arch", "cpu", "memory", "allocatable_cpu", "allocatable_memory", "allocatable_pods",
                "on_demand_price", "spot_price", "zones", "capacity_types"]:
        assert col in df.columns
    m5 = df.loc["m5.large"]
    assert m5["cpu"] == 2.0
    assert m5["allocatable_cpu"] == pytest.approx(1.93)
    assert m5["allocatable_memory"] == 6903 * 2**20
    assert m5["allocatable_pods"] == 29
    assert m5["family"] == "m5" and m5["arch"] == "amd64"
    assert m5["on_demand_price"] > 0 and 0 < m5["spot_price"] < m5["on_demand_price"]
    assert "us-east-1a" in m5["zones"].split(",")


def test_filter(us_east_1: karpsim.Catalog) -> None:
    arm = us_east_1.filter(ARM)
    assert 0 < len(arm) < len(us_east_1)
    assert set(arm.to_pandas()["arch"]) == {"arm64"}
    small = arm.filter([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7g"]}])
    assert small.instance_types() and all(n.startswith("m7g.") for n in small.instance_types())
    assert len(us_east_1) > 1000  # unchanged: catalogs are immutable
    with pytest.raises(karpsim.InputError, match="operator"):
        us_east_1.filter([{"key": "a", "operator": "Nope", "values": []}])


def test_with_prices(us_east_1: karpsim.Catalog) -> None:
    cheap = us_east_1.with_prices(on_demand_multiplier=0.5, prices={"m5.large": {"spot": 0.01}})
    a, b = us_east_1.to_pandas(), cheap.to_pandas()
    assert b.loc["m5.xlarge", "on_demand_price"] == pytest.approx(a.loc["m5.xlarge", "on_demand_price"] * 0.5)
    assert b.loc["m5.large", "spot_price"] == pytest.approx(0.01)
    assert a.loc["m5.large", "spot_price"] != pytest.approx(0.01)
    with pytest.raises(karpsim.InputError, match="spot_discount"):
        karpsim.Catalog.aws(spot_discount=2.0)


def test_custom_catalog(tmp_path: Path) -> None:
    from_text = karpsim.Catalog.from_json(CUSTOM)
    path = tmp_path / "lab.json"
    path.write_text(CUSTOM)
    from_path = karpsim.Catalog.from_json(path)
    from_str_path = karpsim.Catalog.from_json(str(path))
    assert from_text.instance_types() == from_path.instance_types() == from_str_path.instance_types() == ["big", "small"]
    assert from_path.name == str(path)
    df = from_text.to_pandas()
    assert df.loc["small", "allocatable_cpu"] == pytest.approx(1.9)
    assert df.loc["small", "spot_price"] == pytest.approx(0.04)
    assert math.isnan(df.loc["big", "spot_price"])
    assert from_text.filter(ARM).instance_types() == ["big"]
    with pytest.raises(karpsim.CatalogError, match="custom catalog"):
        from_text.with_prices(on_demand_multiplier=0.5)


def test_errors() -> None:
    with pytest.raises(karpsim.CatalogError, match="known regions") as e:
        karpsim.Catalog.aws("mars-north-1")
    assert isinstance(e.value, karpsim.KarpsimError)
    with pytest.raises(karpsim.CatalogError, match="malformed"):
        karpsim.Catalog.from_json('{"instance_types": [{"nam": 1}]}')
    with pytest.raises(karpsim.KarpsimError):
        karpsim.Catalog.from_json("/nonexistent/catalog.json")
