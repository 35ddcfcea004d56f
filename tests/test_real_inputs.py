"""The objects real clusters hold, from Python: volumes and zones, NodeClaims, Namespaces, HPAs."""

from __future__ import annotations

import pytest

import karpsim
from conftest import ROOT

STATEFUL = ROOT / "examples" / "eks-stateful-snapshot" / "cluster.json"

NODEPOOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "general"},
    "spec": {"template": {"spec": {"requirements": [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7i"]}]}}},
}


def statefulset(replicas: dict[str, int]) -> dict:
    spec = {
        "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [{"name": "db", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "zonal"}}],
    }
    spec.update(replicas)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "data"}, "spec": spec}


STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "zonal"},
    "provisioner": "ebs.csi.aws.com", "volumeBindingMode": "WaitForFirstConsumer",
    "allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.ebs.csi.aws.com/zone", "values": ["us-east-1c"]}]}],
}

HPA = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "db", "namespace": "data"},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"}, "minReplicas": 3, "maxReplicas": 6},
}


def test_statefulset_claims_follow_their_storage_class_and_hpa() -> None:
    cluster = karpsim.Cluster.from_objects([NODEPOOL, STORAGE_CLASS, statefulset({}), HPA])
    assert cluster.pod_count == 3
    assert any("runs minReplicas (3)" in w for w in cluster.warnings)
    r = karpsim.provision(cluster)
    assert not r.unschedulable
    assert {n["zone"] for n in r.nodeclaims} == {"us-east-1c"}
    pods = r.pods_frame()
    assert sorted(pods.index) == ["data/db-0", "data/db-1", "data/db-2"]


def test_stateful_snapshot() -> None:
    cluster = karpsim.Cluster.from_paths(STATEFUL)
    assert cluster.node_count == 4, "three nodes and one NodeClaim still launching"
    r = karpsim.provision(cluster)
    assert [(n["zone"], n["pods"]) for n in r.nodeclaims] == [("us-east-1a", ["data/postgres-2"])]
    assert [(n["name"], n["pods"]) for n in r.existing_nodes] == [("default-7k2xq", ["shop/cart-5f7d6c8b9-h4j6k"])]


def test_bad_new_kinds_raise_input_errors() -> None:
    bad = {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {"name": "orphan"}, "spec": {}}
    with pytest.raises(karpsim.InputError, match="NodeClaim orphan.*karpenter.sh/nodepool"):
        karpsim.Cluster.from_objects([NODEPOOL, bad])
