from __future__ import annotations

import json

import pytest

import karpsim
from conftest import BOUTIQUE, CUSTOM

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "replicas": 3,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]},
        },
    },
}
NODEPOOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "general"},
    "spec": {"template": {"spec": {"requirements": [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}}},
}


def test_from_paths(boutique: karpsim.Cluster) -> None:
    assert boutique.nodepools == ["default"]
    assert boutique.pod_count == 12
    assert boutique.daemonset_count == 1
    assert boutique.node_count == 0
    assert any("Service" in w for w in boutique.warnings)
    assert "m5.large" in boutique.instance_types("default")
    assert "nodepools=[default]" in repr(boutique)
    files = karpsim.Cluster.from_paths(BOUTIQUE / "nodepool.yaml", str(BOUTIQUE / "microservices-demo.yaml"))
    assert files.pod_count == 12 and files.daemonset_count == 0
    with pytest.raises(karpsim.InputError, match="nodepool"):
        boutique.instance_types("nope")
    with pytest.raises(FileNotFoundError):
        karpsim.Cluster.from_paths(BOUTIQUE / "nope.yaml")


def test_from_yaml_and_objects() -> None:
    text = "---\n" + "\n---\n".join(json.dumps(o) for o in (NODEPOOL, DEPLOYMENT))
    a = karpsim.Cluster.from_yaml(text)
    b = karpsim.Cluster.from_objects([NODEPOOL, DEPLOYMENT])
    c = karpsim.Cluster.from_objects([{"apiVersion": "v1", "kind": "List", "items": [NODEPOOL, DEPLOYMENT]}])
    for cl in (a, b, c):
        assert cl.nodepools == ["general"] and cl.pod_count == 3


def test_catalogs_reach_the_cluster(us_east_1: karpsim.Catalog) -> None:
    arm = us_east_1.filter([{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}])
    cl = karpsim.Cluster.from_objects([NODEPOOL, DEPLOYMENT], catalog=arm)
    types = cl.instance_types("general")
    assert types and "m7g.large" in types and "m5.large" not in types
    lab = karpsim.Cluster.from_objects([NODEPOOL, DEPLOYMENT], catalog=karpsim.Catalog.from_json(CUSTOM))
    assert lab.instance_types("general") == ["big", "small"]
    assert lab.catalog_name == "<string>"


def test_bad_input_names_file_object_and_field() -> None:
    bad = dict(DEPLOYMENT)
    bad["spec"] = json.loads(json.dumps(DEPLOYMENT["spec"]).replace('"500m"', '"lots"'))
    with pytest.raises(karpsim.InputError) as e:
        karpsim.Cluster.from_yaml(json.dumps(bad), name="shop.yaml")
    err = e.value
    assert isinstance(err, karpsim.KarpsimError)
    assert err.file == "shop.yaml" and err.document == 1
    assert err.kind == "Deployment" and err.object == "shop/web"
    assert err.field == "spec.template.spec.containers[0].resources.requests.cpu"
    assert "shop.yaml" in str(err) and "requests.cpu" in str(err)
    with pytest.raises(karpsim.InputError):
        karpsim.Cluster.from_yaml("kind: [unclosed")
    with pytest.raises(karpsim.InputError, match="objects\\[0\\]"):
        karpsim.Cluster.from_objects([{"x": object()}])
    with pytest.raises(FileNotFoundError):
        karpsim.Cluster.from_paths("/nonexistent/dir")


def test_panic_becomes_internal_error() -> None:
    with pytest.raises(karpsim.InternalError, match="deliberate panic"):
        karpsim._karpsim._panic()
