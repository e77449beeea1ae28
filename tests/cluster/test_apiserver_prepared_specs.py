"""Pods whose spec was prepared before (api.podspecs) must come out exactly as a full create makes them,
and must share nothing a user could change through another pod."""

from __future__ import annotations

import json

import pytest

import kubelab
from kubelab import ApiError
from kubelab.api import podspecs

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def pod(name: str, **meta) -> dict:
    """A pod with init and app containers, a volume of its own and one container mounting its own token."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta}, "spec": {
        "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}],
        "containers": [
            {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            {"name": "own-token", "image": "registry.k8s.io/pause:3.10",
             "volumeMounts": [{"name": "data", "mountPath": TOKEN_PATH}]},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }}


def created(seed: int, names: list[str], *, forget_each_time: bool) -> list[str]:
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=seed)
    out = []
    for name in names:
        if forget_each_time:
            podspecs._PREPARED.clear()
        out.append(json.dumps(cluster.create(pod(name))))
    return out


def test_pods_built_from_a_prepared_spec_equal_pods_created_in_full():
    names = ["first", "second", "third"]
    assert created(11, names, forget_each_time=False) == created(11, names, forget_each_time=True)


def test_each_pod_mounts_its_own_token_volume_in_the_containers_without_one():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=3)
    for name in ("one", "two"):
        spec = cluster.create(pod(name))["spec"]
        token = spec["volumes"][-1]["name"]
        assert token.startswith("kube-api-access-")
        assert spec["initContainers"][0]["volumeMounts"][-1]["name"] == token
        assert spec["containers"][0]["volumeMounts"][-1]["name"] == token
        assert [m["name"] for m in spec["containers"][1]["volumeMounts"]] == ["data"]
    first, second = (cluster.get("pod", n)["spec"]["volumes"][-1]["name"] for n in ("one", "two"))
    assert first != second


def test_a_pod_read_and_changed_by_the_user_changes_no_stored_pod():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=5)
    cluster.create(pod("a"))
    cluster.create(pod("b"))
    before = [json.dumps(cluster.get("pod", n)) for n in ("a", "b")]
    mine = cluster.get("pod", "b")
    spec = mine["spec"]
    spec["volumes"][-1]["projected"]["sources"].append({"secret": {"name": "x"}})
    spec["volumes"][-1]["projected"]["defaultMode"] = 256
    spec["tolerations"][0]["key"] = "changed"
    spec["tolerations"].append({"key": "more"})
    spec["containers"][0]["resources"]["limits"] = {"cpu": "1"}
    spec["containers"][0]["ports"][0]["protocol"] = "UDP"
    spec["initContainers"][0]["command"].append("again")
    spec["securityContext"]["runAsUser"] = 1000
    assert [json.dumps(cluster.get("pod", n)) for n in ("a", "b")] == before
    third = cluster.create(pod("c"))["spec"]
    assert third["tolerations"][0]["key"] == "gpu" and third["volumes"][-1]["projected"]["defaultMode"] == 420
    assert third["initContainers"][0]["command"] == ["true"] and third["securityContext"] == {}


def test_a_mirror_pod_after_a_pod_with_the_same_spec_gets_no_token_volume():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    cluster.api.create(pod("normal"))
    mirror = cluster.api.create(pod("mirror", annotations={"kubernetes.io/config.mirror": "hash"}))
    assert [v["name"] for v in mirror["spec"]["volumes"]] == ["data"]


def test_an_unknown_spec_field_is_rejected_when_strict_after_ignore_accepted_it():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    odd = pod("lenient")
    odd["spec"]["containers"][0]["colour"] = "blue"
    cluster.api.create(odd, field_validation="Ignore")
    odd["metadata"]["name"] = "strict"
    with pytest.raises(ApiError) as info:
        cluster.api.create(odd)
    assert info.value.code == 400 and 'unknown field "spec.containers[0].colour"' in info.value.message


def test_warnings_for_unknown_spec_fields_come_every_time():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    odd = pod("warned")
    odd["spec"]["colour"] = "blue"
    first = cluster.api.prepare(odd, field_validation="Warn")[2]
    second = cluster.api.prepare(odd, field_validation="Warn")[2]
    assert first == second == ['unknown field "spec.colour"']


def test_a_bad_name_is_rejected_for_a_spec_prepared_before():
    cluster = kubelab.Cluster(nodes=1, clock="stepped", seed=1)
    cluster.api.create(pod("fine"))
    with pytest.raises(ApiError) as info:
        cluster.api.create(pod("Not_Fine"))
    assert info.value.code == 422 and 'metadata.name: Invalid value: "Not_Fine"' in info.value.message


def test_replica_set_pods_each_get_their_own_token_volume():
    cluster = kubelab.Cluster(nodes=2, clock="stepped", seed=2)
    cluster.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}})
    cluster.settle()
    pods = cluster.list("pod", selector="app=web")
    tokens = {p["spec"]["volumes"][0]["name"] for p in pods}
    assert len(pods) == 3 and len(tokens) == 3
    assert all(p["spec"]["containers"][0]["volumeMounts"][0]["name"] == p["spec"]["volumes"][0]["name"]
               for p in pods)
