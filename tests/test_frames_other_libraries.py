"""`to_polars()` and `SimResult.to_xarray()` (optional dependencies, installed by the test extras)."""

from __future__ import annotations

import pytest

import karpsim


def test_to_polars(boutique: karpsim.Cluster, snapshot: karpsim.Cluster, short_scenario: karpsim.Scenario) -> None:
    pl = pytest.importorskip("polars")
    r = karpsim.provision(boutique)
    df = r.to_polars()
    assert isinstance(df, pl.DataFrame)
    assert df.columns[0] == "nodeclaim" and df.height == len(r.nodeclaims)
    assert df["instance_type_options"].to_list()[0] == r.nodeclaims[0]["instance_type_options"]
    c = karpsim.consolidate(snapshot, until_stable=True).to_polars()
    assert c.columns[0] == "command" and c["nodes"].to_list()[0] == ["ip-10-0-5-50.ec2.internal"]
    s = karpsim.simulate(short_scenario.with_duration("1h"), progress=False).to_polars()
    assert s.columns[0] == "time" and s.height > 1
    assert karpsim.Catalog.aws().to_polars().height > 1000


def test_to_xarray(short_scenario: karpsim.Scenario) -> None:
    pytest.importorskip("xarray")
    r = karpsim.simulate(short_scenario, progress=False)
    ds = r.to_xarray()
    assert "cost_usd_per_hour" in ds and "nodes_by_instance_type" in ds
    assert ds["nodes_by_instance_type"].dims == ("time", "instance_type")
    # the per-type counts add up to the node count at every time
    assert (ds["nodes_by_instance_type"].sum("instance_type") == ds["nodes"]).all()
    assert ds.attrs["scenario"] == r.scenario
