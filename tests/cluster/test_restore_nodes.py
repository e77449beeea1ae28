"""Restoring a snapshot brings the kubelets back in line with the restored Node objects."""

from __future__ import annotations

import kubelab


def make(nodes: int = 2) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=1)


def ready(c: kubelab.Cluster, name: str) -> str:
    node = c.get("nodes", name, None)
    return next(cond["status"] for cond in node["status"]["conditions"] if cond["type"] == "Ready")


def node_names(c: kubelab.Cluster) -> list[str]:
    return sorted(n["metadata"]["name"] for n in c.list("nodes", None))


def pod(name: str, node: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]}}


def test_node_added_after_the_snapshot_is_gone_with_its_kubelet_and_lease():
    c = make()
    start = c.snapshot()
    c.add_node("extra")
    c.restore(start)
    assert node_names(c) == ["kubelab-control-plane", "kubelab-worker"]
    assert "extra" not in c.node_agents
    c.advance(60)  # a kubelet left running would re-create its Lease on its next renewal
    assert node_names(c) == ["kubelab-control-plane", "kubelab-worker"]
    assert c.store.get(("coordination.k8s.io", "leases"), "kube-node-lease", "extra") is None


def test_node_removed_after_the_snapshot_comes_back_with_a_working_kubelet():
    c = make()
    start = c.snapshot()
    c.remove_node("kubelab-worker")
    c.restore(start)
    assert c.node_agents["kubelab-worker"].alive
    c.advance(120)  # past node-lifecycle's 50 s grace: only a renewing kubelet keeps it Ready
    assert ready(c, "kubelab-worker") == "True"
    c.create(pod("back", "kubelab-worker"))
    c.advance(30)
    assert c.get("pods", "back")["status"]["phase"] == "Running"


def test_failed_node_runs_again_after_restoring_the_healthy_snapshot():
    c = make()
    start = c.snapshot()
    c.fail_node("kubelab-worker")
    c.advance(100)
    assert ready(c, "kubelab-worker") == "Unknown"
    c.restore(start)
    c.advance(120)
    assert ready(c, "kubelab-worker") == "True"
    assert "taints" not in c.get("nodes", "kubelab-worker", None)["spec"]


def test_snapshot_of_an_unreachable_node_restores_it_silent():
    c = make()
    c.fail_node("kubelab-worker")
    c.advance(100)
    broken = c.snapshot()
    c.recover_node("kubelab-worker")
    c.restore(broken)
    assert not c.node_agents["kubelab-worker"].alive
    c.advance(60)
    assert ready(c, "kubelab-worker") == "Unknown"


def test_restore_without_node_changes_keeps_the_same_kubelets():
    c = make()
    agents = dict(c.node_agents)
    start = c.snapshot()
    c.apply(pod("p", "kubelab-worker"))
    c.restore(start)
    assert c.node_agents == agents
