from __future__ import annotations

from pathlib import Path

import pytest

import karpsim

ROOT = Path(__file__).resolve().parent.parent
BOUTIQUE = ROOT / "examples" / "online-boutique"


@pytest.fixture(scope="session")
def us_east_1() -> karpsim.Catalog:
    return karpsim.Catalog.aws("us-east-1")


@pytest.fixture(scope="session")
def boutique() -> karpsim.Cluster:
    return karpsim.Cluster.from_paths(BOUTIQUE)


CUSTOM = """{
  "region": "lab-1",
  "instance_types": [
    {"name": "small", "capacity": {"cpu": "2", "memory": "4Gi", "pods": 10},
     "overhead": {"cpu": "100m", "memory": "256Mi"},
     "labels": {"kubernetes.io/arch": "amd64", "size": "small"},
     "offerings": [{"zone": "lab-1a", "capacity_type": "on-demand", "price": 0.10},
                   {"zone": "lab-1a", "capacity_type": "spot", "price": 0.04}]},
    {"name": "big", "capacity": {"cpu": "8", "memory": "32Gi", "pods": 50},
     "labels": {"kubernetes.io/arch": "arm64", "size": "big"},
     "offerings": [{"zone": "lab-1b", "capacity_type": "on-demand", "price": 0.50}]}
  ]
}"""


SNAPSHOT = ROOT / "examples" / "eks-snapshot" / "cluster.json"
DIURNAL = ROOT / "examples" / "diurnal-web" / "scenario.yaml"


@pytest.fixture(scope="session")
def snapshot() -> karpsim.Cluster:
    return karpsim.Cluster.from_paths(SNAPSHOT)


@pytest.fixture(scope="session")
def short_scenario() -> karpsim.Scenario:
    """The diurnal example cut to 4 simulated hours (about a second in release)."""
    return karpsim.Scenario.load(DIURNAL).with_duration("4h")
