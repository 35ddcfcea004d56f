"""The work limit: inputs and scenarios asking for more pods than `pod_limit` are refused up front
with an InputError that names the object and field, instead of exhausting the interpreter's memory."""

from __future__ import annotations

import pickle

import pytest

import karpsim
from conftest import DIURNAL

HUGE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1000000000
  template: {spec: {containers: [{name: a}]}}
"""


def test_cluster_refuses_more_pods_than_the_limit() -> None:
    with pytest.raises(karpsim.InputError) as e:
        karpsim.Cluster.from_yaml(HUGE)
    assert e.value.field == "spec.replicas"
    assert "pod_limit" in str(e.value)
    small = HUGE.replace("1000000000", "30")
    with pytest.raises(karpsim.InputError, match="work limit of 20 pods"):
        karpsim.Cluster.from_yaml(small, pod_limit=20)
    assert karpsim.Cluster.from_yaml(small, pod_limit=30).pod_count == 30
    with pytest.raises(karpsim.InputError, match="at least 1"):
        karpsim.Cluster.from_yaml(small, pod_limit=0)


def test_scenario_limit_survives_pickling() -> None:
    with pytest.raises(karpsim.InputError, match="work limit of 5 pods"):
        karpsim.Scenario.load(DIURNAL, pod_limit=5)
    sc = karpsim.Scenario.load(DIURNAL, pod_limit=100_000)
    state = sc.__reduce__()[1][0]
    assert b'"pod_limit":100000' in state
    again = pickle.loads(pickle.dumps(sc))
    assert again.__reduce__()[1][0] == state
