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
    assert list(df.columns) == [
        "family", "arch", "cpu_cores", "memory_gib", "pods", "gpus", "allocatable_cpu_cores", "allocatable_memory_gib",
        "allocatable_pods", "on_demand_price_usd_per_hour", "spot_price_usd_per_hour", "spot_savings_percent", "zones",
        "capacity_types",
    ]
    m5 = df.loc["m5.large"]
    assert m5["cpu_cores"] == 2.0
    assert m5["memory_gib"] == pytest.approx(8 * (1 - 0.075), abs=0.01), "8 GiB less Karpenter's VM overhead"
    assert m5["allocatable_cpu_cores"] == pytest.approx(1.93)
    assert m5["allocatable_memory_gib"] == 6903 / 1024
    assert m5["allocatable_pods"] == 29
    assert m5["family"] == "m5" and m5["arch"] == "amd64"
    assert m5["on_demand_price_usd_per_hour"] > 0 and 0 < m5["spot_price_usd_per_hour"] < m5["on_demand_price_usd_per_hour"]
    assert "us-east-1a" in m5["zones"] and m5["capacity_types"] == ["on-demand", "spot"], "lists stay lists"


def test_filter(us_east_1: karpsim.Catalog) -> None:
    arm = us_east_1.filter(ARM)
    assert 0 < len(arm) < len(us_east_1)
    assert set(arm.to_pandas()["arch"]) == {"arm64"}
    assert "aws:us-east-1" in arm._repr_html_()
    small = arm.filter([{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7g"]}])
    assert small.instance_types() and all(n.startswith("m7g.") for n in small.instance_types())
    assert len(us_east_1) > 1000  # unchanged: catalogs are immutable
    with pytest.raises(karpsim.InputError, match="operator"):
        us_east_1.filter([{"key": "a", "operator": "Nope", "values": []}])


def test_with_prices(us_east_1: karpsim.Catalog) -> None:
    cheap = us_east_1.with_prices(on_demand_multiplier=0.5, prices={"m5.large": {"spot": 0.01}})
    a, b = us_east_1.to_pandas(), cheap.to_pandas()
    od, spot = "on_demand_price_usd_per_hour", "spot_price_usd_per_hour"
    assert b.loc["m5.xlarge", od] == pytest.approx(a.loc["m5.xlarge", od] * 0.5)
    assert b.loc["m5.large", spot] == pytest.approx(0.01)
    assert a.loc["m5.large", spot] != pytest.approx(0.01)
    # the CLI's form, NAME:CAPACITY (a type with a dot, else a family), gives the same prices
    cli_form = us_east_1.with_prices(on_demand_multiplier=0.5, prices={"m5.large:spot": 0.01, "m7g:on-demand": 0.05})
    c = cli_form.to_pandas()
    assert c.loc["m5.large", spot] == pytest.approx(0.01)
    assert c.loc["m7g.large", od] == pytest.approx(0.05) and c.loc["m7g.xlarge", od] == pytest.approx(0.05)
    with pytest.raises(karpsim.InputError, match="spot_discount"):
        karpsim.Catalog.aws(spot_discount=2.0)
    with pytest.raises(karpsim.InputError, match="on-demand or spot") as e:
        us_east_1.with_prices(prices={"m5.large:reserved": 0.01})
    assert e.value.field == "prices.m5.large:reserved"


def test_custom_catalog(tmp_path: Path) -> None:
    from_text = karpsim.Catalog.from_json(CUSTOM)
    path = tmp_path / "lab.json"
    path.write_text(CUSTOM)
    from_path = karpsim.Catalog.from_json(path)
    from_str_path = karpsim.Catalog.from_json(str(path))
    assert from_text.instance_types() == from_path.instance_types() == from_str_path.instance_types() == ["big", "small"]
    assert from_path.name == str(path)
    df = from_text.to_pandas()
    assert df.loc["small", "allocatable_cpu_cores"] == pytest.approx(1.9)
    assert df.loc["small", "spot_price_usd_per_hour"] == pytest.approx(0.04)
    assert math.isnan(df.loc["big", "spot_price_usd_per_hour"])
    assert from_text.filter(ARM).instance_types() == ["big"]
    with pytest.raises(karpsim.CatalogError, match="custom catalog"):
        from_text.with_prices(on_demand_multiplier=0.5)


def test_errors() -> None:
    with pytest.raises(karpsim.CatalogError, match="known regions") as e:
        karpsim.Catalog.aws("mars-north-1")
    assert isinstance(e.value, karpsim.KarpsimError)
    with pytest.raises(karpsim.CatalogError, match="malformed"):
        karpsim.Catalog.from_json('{"instance_types": [{"nam": 1}]}')
    with pytest.raises(FileNotFoundError) as e:
        karpsim.Catalog.from_json("/nonexistent/catalog.json")
    assert e.value.filename == "/nonexistent/catalog.json"
