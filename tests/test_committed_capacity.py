"""NodeOverlays, capacity reservations and static NodePools from Python (examples/committed-capacity)."""

from __future__ import annotations

import pickle

import pytest

import karpsim
from conftest import BOUTIQUE, ROOT

COMMITTED = ROOT / "examples" / "committed-capacity"
RESERVATION = {"id": "cr-0a1b2c3d4e5f60718", "count": 2, "instance_type": "m7i.xlarge", "zone": "us-east-1a"}


@pytest.fixture(scope="module")
def committed() -> karpsim.Cluster:
    return karpsim.Cluster.from_paths(BOUTIQUE, COMMITTED / "manifests", reservations=COMMITTED / "reservations.yaml")


def test_the_cluster_lists_overlays_and_reservations(committed: karpsim.Cluster) -> None:
    assert committed.overlays == ["compute-savings-plan"]
    [r] = committed.reservations
    assert (r["id"], r["nodeclass"], r["instance_type"], r["count"], r["type"]) == (
        "cr-0a1b2c3d4e5f60718", "committed", "m7i.xlarge", 2, "default")
    assert any("NodeOverlay feature gate" in w for w in committed.warnings)


def test_provision_uses_reserved_capacity_and_keeps_the_static_pool(committed: karpsim.Cluster) -> None:
    r = karpsim.provision(committed)
    df = r.to_pandas()
    gpu = df[df.nodepool == "gpu"]
    assert len(gpu) == 2 and (gpu.pods == 0).all()
    assert gpu.price_usd_per_hour.iloc[0] == pytest.approx(1.006 * 0.72)  # the savings-plan overlay
    [reserved] = [n for n in r.nodeclaims if n["capacity_type"] == "reserved"]
    assert reserved["reservation_id"] == "cr-0a1b2c3d4e5f60718"
    assert len(reserved["pods"]) == 12


def test_reservations_as_dicts_and_their_errors() -> None:
    as_dicts = karpsim.Cluster.from_paths(BOUTIQUE, COMMITTED / "manifests", reservations=[RESERVATION])
    assert as_dicts.reservations[0]["count"] == 2
    with pytest.raises(karpsim.InputError, match=r"reservations\[0\]"):
        karpsim.Cluster.from_paths(BOUTIQUE, reservations=[{"id": "cr-1", "count": "many"}])
    without = karpsim.Cluster.from_paths(BOUTIQUE, COMMITTED / "manifests")
    assert without.reservations == []
    assert any("cr-0a1b2c3d4e5f60718" in w and "no count" in w for w in without.warnings)


def test_a_sweep_over_reserved_counts() -> None:
    sc = karpsim.Scenario.load(COMMITTED / "scenario.yaml").with_duration("2h")
    df = karpsim.compare(sc, [karpsim.Variant("none", reserved_count=0), karpsim.Variant("four", reserved_count=4)], progress=False)
    cost = df["total_cost_usd"].droplevel("seed")
    # four reserved instances are billed whether used or not: more than none
    assert cost["four"] > cost["none"]


def test_reserved_count_on_a_cluster_and_pickling(committed: karpsim.Cluster) -> None:
    none = committed.with_changes(reserved_count=0)
    assert none.reservations[0]["count"] == 0
    assert all(n["capacity_type"] != "reserved" for n in karpsim.provision(none).nodeclaims)
    with pytest.raises(karpsim.InputError, match=r"cr-0a1b2c3d4e5f60718"):
        committed.with_changes(reserved_count="cr-0zzz:1")
    # a cluster pickles by its source: the reservations file is read again
    again = pickle.loads(pickle.dumps(committed))
    assert again.reservations == committed.reservations
    assert karpsim.provision(again) == karpsim.provision(committed)
