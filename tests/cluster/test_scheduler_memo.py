"""The scheduler reuses per-node filter verdicts and scores between cycles: what it shows must
stay exactly what recomputing would give, as nodes fill up and as the pod's shape changes."""

from __future__ import annotations

import kubelab

WORKERS = {"kubelab-worker", "kubelab-worker2"}


def pod(name: str, cpu: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}}


def test_identical_pods_fill_the_nodes_then_the_next_one_sees_insufficient_cpu():
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    for i in range(4):
        c.create(pod(f"web-{i}", "1500m"))
    placed = [c.get("pods", f"web-{i}")["spec"].get("nodeName") for i in range(4)]
    assert sorted(placed) == sorted([*WORKERS, *WORKERS])  # two per 4-cpu worker
    c.create(pod("web-4", "1500m"))
    assert c.get("pods", "web-4")["spec"].get("nodeName") is None
    decision = c.scheduling_decision("web-4")
    assert decision is not None
    assert {name: r.reasons for name, r in decision.rejected.items() if name in WORKERS} == {
        name: ("Insufficient cpu",) for name in WORKERS}


def test_scores_follow_each_bind_and_each_pod_shape():
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    c.create(pod("a", "1"))
    first = c.scheduling_decision("a")
    assert first is not None and first.node is not None
    c.create(pod("b", "1"))
    second = c.scheduling_decision("b")
    assert second is not None
    # a's node now has 1 cpu in use: its least-allocated score dropped, the other node's did not.
    other = next(n for n in WORKERS if n != first.node)
    assert second.scores[first.node]["NodeResourcesFit"] < first.scores[first.node]["NodeResourcesFit"]
    assert second.scores[other]["NodeResourcesFit"] == first.scores[other]["NodeResourcesFit"]
    assert second.node == other
    c.create(pod("c", "2"))  # another shape: nothing cached for "1 cpu" may leak into its scores
    third = c.scheduling_decision("c")
    assert third is not None
    assert third.scores[other]["NodeResourcesFit"] < second.scores[other]["NodeResourcesFit"]
