"""The API server's create path: pods that look like one already accepted are still checked in full."""

from __future__ import annotations

import pytest

import kubelab
from kubelab import ApiError


def pod(name: str, **spec) -> dict:
    container = {"name": "app", "image": "registry.k8s.io/pause:3.10"}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container], **spec}}


@pytest.fixture
def cluster() -> kubelab.Cluster:
    return kubelab.Cluster(nodes=1, clock="stepped", seed=7)


def test_pod_like_an_accepted_one_but_for_a_bad_field_is_rejected(cluster):
    cluster.api.create(pod("good-1", restartPolicy="Never"))
    cluster.api.create(pod("good-2", restartPolicy="Never"))
    with pytest.raises(ApiError) as info:
        cluster.api.create(pod("bad", restartPolicy="Sometimes"))
    assert info.value.code == 422
    assert 'spec.restartPolicy: Unsupported value: "Sometimes"' in info.value.message


def test_mount_of_a_token_volume_another_pod_had_is_not_found(cluster):
    # The pods bring their own token-like projected volume (so admission adds none); the first is valid.
    def with_token(name: str, volume: str, mounted: str) -> dict:
        return pod(name, volumes=[{"name": volume, "projected": {"sources": [
                       {"serviceAccountToken": {"path": "token"}}]}}],
                   container={"volumeMounts": [{"name": mounted,
                                                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]})

    cluster.api.create(with_token("first", "kube-api-access-aaaaa", "kube-api-access-aaaaa"))
    cluster.api.create(with_token("second", "kube-api-access-bbbbb", "kube-api-access-bbbbb"))
    with pytest.raises(ApiError) as info:
        cluster.api.create(with_token("third", "kube-api-access-ccccc", "kube-api-access-aaaaa"))
    assert 'spec.containers[0].volumeMounts[0].name: Not found: "kube-api-access-aaaaa"' in info.value.message


def test_pods_get_distinct_uids_and_their_own_token_volume(cluster):
    first = cluster.api.create(pod("a"))
    second = cluster.api.create(pod("b"))
    assert first["metadata"]["uid"] != second["metadata"]["uid"]
    assert first["metadata"]["uid"][14] == "4" and first["metadata"]["uid"][19] in "89ab"  # UUID version 4
    names = [v["name"] for p in (first, second) for v in p["spec"]["volumes"]]
    assert len(set(names)) == 2 and all(n.startswith("kube-api-access-") for n in names)


def test_creating_a_pod_twice_is_already_exists(cluster):
    cluster.api.create(pod("twice"))
    with pytest.raises(ApiError) as info:
        cluster.api.create(pod("twice"))
    assert info.value.code == 409 and info.value.message == 'pods "twice" already exists'
