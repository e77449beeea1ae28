"""Node lifecycle and taint eviction: silent kubelets, NotReady nodes, unreachable taints, pod eviction."""

from __future__ import annotations

import kubelab

UNREACHABLE_NO_SCHEDULE = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}


def make(nodes: int = 3) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=1)


def pod(name: str, **spec) -> dict:
    body = {"containers": [{"name": "app", "image": "nginx"}], **spec}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def pods_on(c: kubelab.Cluster, node: str) -> list[str]:
    return [p["metadata"]["name"] for p in c.list("pods") if p["spec"].get("nodeName") == node]


def conditions(c: kubelab.Cluster, node: str) -> list[tuple[str, str, str]]:
    n = c.get("nodes", node, None)
    return [(x["type"], x["status"], x["reason"]) for x in n["status"]["conditions"]]


def terminating(c: kubelab.Cluster, name: str) -> bool:
    return bool(c.get("pods", name)["metadata"].get("deletionTimestamp"))


def failed_worker_with_pods() -> tuple[kubelab.Cluster, list[str], float]:
    c = make()
    for i in range(4):
        c.create(pod(f"web-{i}"))
    victims = pods_on(c, "kubelab-worker")
    assert victims  # both workers got some
    start = c.now
    c.fail_node("kubelab-worker")
    return c, victims, start


def test_silent_node_stays_ready_within_the_grace_period():
    c, _, _ = failed_worker_with_pods()
    c.advance(50)
    assert ("Ready", "True", "KubeletReady") in conditions(c, "kubelab-worker")
    assert "taints" not in c.get("nodes", "kubelab-worker", None)["spec"]


def test_silent_node_becomes_unknown_and_unreachable_after_the_grace_period():
    c, _, _ = failed_worker_with_pods()
    c.advance(55)
    assert conditions(c, "kubelab-worker") == [
        ("MemoryPressure", "Unknown", "NodeStatusUnknown"), ("DiskPressure", "Unknown", "NodeStatusUnknown"),
        ("PIDPressure", "Unknown", "NodeStatusUnknown"), ("Ready", "Unknown", "NodeStatusUnknown")]
    node = c.get("nodes", "kubelab-worker", None)
    ready = node["status"]["conditions"][3]
    assert ready["message"] == "Kubelet stopped posting node status."
    assert ready["lastHeartbeatTime"] == "2025-12-31T23:59:00Z"  # the kubelet's last word (at registration)
    assert ready["lastTransitionTime"] == "2026-01-01T00:00:55Z"
    assert node["spec"]["taints"] == [UNREACHABLE_NO_SCHEDULE, {"key": "node.kubernetes.io/unreachable",
                                                                "effect": "NoExecute",
                                                                "timeAdded": "2026-01-01T00:00:55Z"}]
    assert [(e["type"], e["reason"], e["message"], e["source"]["component"]) for e in c.events("default")
            if e["reason"] == "NodeNotReady"] == [
        ("Normal", "NodeNotReady", "Node kubelab-worker status is now: NodeNotReady", "node-controller")]
    assert ("Ready", "True", "KubeletReady") in conditions(c, "kubelab-worker2")


def test_pods_on_an_unreachable_node_are_evicted_after_300_seconds_not_before():
    c, victims, start = failed_worker_with_pods()
    c.advance(55 + 299)
    assert not any(terminating(c, name) for name in victims)
    c.advance(1)
    assert all(terminating(c, name) for name in victims)  # Terminating: no kubelet left to confirm
    assert not any(terminating(c, name) for name in pods_on(c, "kubelab-worker2"))
    name = victims[0]
    evictions = [(e["reason"], e["message"], e["source"]["component"]) for e in c.events()
                 if e["involvedObject"]["name"] == name and e["reason"] == "TaintManagerEviction"]
    assert evictions == [("TaintManagerEviction", f"Marking for deletion Pod default/{name}",
                          "taint-eviction-controller")]
    disruption = next(x for x in c.get("pods", name)["status"]["conditions"] if x["type"] == "DisruptionTarget")
    assert (disruption["reason"], disruption["message"]) == ("DeletionByTaintManager",
                                                             "Taint manager: deleting due to NoExecute taint")


def test_pod_without_toleration_seconds_stays_on_an_unreachable_node():
    c = make(2)
    forever = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}
    c.create(pod("stubborn", tolerations=[forever]))
    c.fail_node("kubelab-worker")
    c.advance(1000)
    assert not terminating(c, "stubborn")


def test_short_toleration_seconds_evicts_sooner():
    c = make(2)
    quick = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 10}
    c.create(pod("quick", tolerations=[quick]))
    c.fail_node("kubelab-worker")
    c.advance(55 + 9)
    assert not terminating(c, "quick")
    c.advance(1)
    assert terminating(c, "quick")


def test_settle_after_a_failure_plays_it_out():
    c, victims, start = failed_worker_with_pods()
    c.settle()
    assert c.now - start == 355
    assert all(terminating(c, name) for name in victims)


def test_recovered_node_is_ready_again_untainted_and_pending_evictions_are_cancelled():
    c, victims, _ = failed_worker_with_pods()
    c.advance(100)
    c.recover_node("kubelab-worker")
    assert conditions(c, "kubelab-worker")[3] == ("Ready", "True", "KubeletReady")
    assert "taints" not in c.get("nodes", "kubelab-worker", None)["spec"]
    c.advance(600)
    assert not any(terminating(c, name) for name in victims)
    cancelled = f"Cancelling deletion of Pod default/{victims[0]}"
    assert any(e["reason"] == "TaintManagerEviction" and e["message"] == cancelled for e in c.events())
    assert any(e["reason"] == "NodeReady" and e["count"] == 2 for e in c.events()
               if e["involvedObject"]["name"] == "kubelab-worker")


def test_new_pods_avoid_an_unreachable_node():
    c = make()
    c.fail_node("kubelab-worker")
    c.advance(60)
    for i in range(3):
        c.create(pod(f"late-{i}"))
    assert pods_on(c, "kubelab-worker") == []


def test_when_every_node_is_down_nothing_is_evicted():
    c = make(1)  # the lone node failing looks, to the control plane, like its own network cut
    c.create(pod("db"))
    c.fail_node("kubelab-control-plane")
    c.advance(1000)
    node = c.get("nodes", "kubelab-control-plane", None)
    assert conditions(c, "kubelab-control-plane")[3][1] == "Unknown"
    assert node["spec"]["taints"] == [UNREACHABLE_NO_SCHEDULE]
    assert not terminating(c, "db")


def test_pods_ready_condition_turns_false_when_their_node_goes_silent():
    c = make(2)
    c.create(pod("web"))
    c.settle()  # its kubelet reports it Running and Ready
    assert next(x for x in c.get("pods", "web")["status"]["conditions"] if x["type"] == "Ready")["status"] == "True"
    c.fail_node("kubelab-worker")
    c.advance(55)
    ready = next(x for x in c.get("pods", "web")["status"]["conditions"] if x["type"] == "Ready")
    assert ready["status"] == "False"
    assert [(e["type"], e["reason"], e["message"]) for e in c.events() if e["involvedObject"]["name"] == "web"
            and e["reason"] == "NodeNotReady"] == [("Warning", "NodeNotReady", "Node is not ready")]


def test_zone_state_follows_each_node_marked_unknown_within_one_sweep():
    # Three of four nodes fall silent together: one monitor sweep marks them Unknown in turn, and the
    # third finds the zone partially disrupted (3 of 4 not ready), so it gets no NoExecute taint —
    # the zone state must be recomputed after each node's write, not once per sweep.
    c = make(4)
    workers = ["kubelab-worker", "kubelab-worker2", "kubelab-worker3"]
    for name in workers:
        c.fail_node(name)
    c.advance(55)
    no_execute = {name: [x["key"] for x in c.get("nodes", name, None)["spec"]["taints"] if x["effect"] == "NoExecute"]
                  for name in workers}
    assert no_execute == {"kubelab-worker": ["node.kubernetes.io/unreachable"],
                          "kubelab-worker2": ["node.kubernetes.io/unreachable"], "kubelab-worker3": []}
