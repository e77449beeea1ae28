"""Snapshots read plain dicts, a local Cluster, or a real API server through the official client — one shape."""

from __future__ import annotations

import pytest
import scenarios

import kubelab
from kubelab import seed
from kubelab.viz import Snapshot, to_dot


def test_from_objects_sorts_by_namespace_and_name_and_unpacks_lists():
    snap = Snapshot.from_objects([
        {"kind": "PodList", "items": [{"metadata": {"name": "b", "namespace": "x"}},
                                      {"metadata": {"name": "a", "namespace": "y"}}]},
        {"kind": "Pod", "metadata": {"name": "a", "namespace": "x", "uid": "u1"}},
    ])
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in snap.pods] == [("x", "a"), ("x", "b"),
                                                                                         ("y", "a")]
    assert all(p["kind"] == "Pod" for p in snap.pods)
    assert snap.by_uid("u1")["metadata"]["name"] == "a" and snap.get("Pod", "a", "y") is not None
    assert len(snap) == 3 and snap.namespaces() == ["x", "y"]


def test_restricted_keeps_one_namespace_and_the_nodes():
    snap = Snapshot.from_objects([{"kind": "Pod", "metadata": {"name": "a", "namespace": "x"}},
                                  {"kind": "Pod", "metadata": {"name": "b", "namespace": "y"}},
                                  {"kind": "Node", "metadata": {"name": "n1"}}])
    only = snap.restricted("x")
    assert [p["metadata"]["name"] for p in only.pods] == ["a"] and len(only.nodes) == 1


def test_a_kind_the_source_cannot_list_is_noted_not_raised():
    class Partial:
        def list(self, kind, namespace=None):
            if kind == "ingresses":
                raise RuntimeError("the server could not find the requested resource")
            return []

    snap = Snapshot.from_cluster(Partial())
    assert snap.unreadable == ("Ingress: the server could not find the requested resource",)


def test_from_api_reads_a_served_cluster_like_from_cluster(tmp_path):
    config = pytest.importorskip("kubernetes.config")
    cluster = scenarios.cluster()
    cluster.apply(seed.GO_DEMO_2_REPLICASET)
    cluster.apply(scenarios.GO_DEMO_2_SERVICE)
    cluster.advance(30)
    handle = cluster.serve(kubeconfig=tmp_path / "kubeconfig")
    try:
        api_client = config.new_client_from_config(config_file=str(handle.kubeconfig))
        try:
            remote = Snapshot.from_api(api_client, namespace="default")
        finally:
            api_client.close()
        local = Snapshot.from_cluster(cluster, namespace="default")
        assert remote.unreadable == ()
        assert to_dot(remote, namespace="default") == to_dot(local, namespace="default")
        assert to_dot(remote, "placement") == to_dot(local, "placement")
    finally:
        handle.stop()
        cluster.close()


def test_from_cluster_with_events_reads_them():
    cluster = kubelab.Cluster(clock="stepped", seed=3)
    cluster.apply(scenarios.pod("web", [{"name": "web", "image": "nginx:1.25"}]))
    cluster.advance(10)
    snap = Snapshot.from_cluster(cluster, events=True)
    assert "Scheduled" in {e.get("reason") for e in snap.events}
    cluster.close()
