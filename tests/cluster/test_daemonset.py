"""The DaemonSet controller: one pod per eligible node, pinned by node affinity, updated by revision."""

from __future__ import annotations

import podphase

import kubelab

WORKERS = ["kubelab-worker", "kubelab-worker2"]


def make(kubelet: bool = True) -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    if kubelet:
        podphase.install(c)
    return c


def daemonset(name: str = "fluentd", *, image: str = "nginx:1.25", strategy: dict | None = None, **pod_spec) -> dict:
    spec: dict = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": name, "image": image}], **pod_spec}},
    }
    if strategy:
        spec["updateStrategy"] = strategy
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name}, "spec": spec}


def taint(c: kubelab.Cluster, node_name: str, key: str, value: str, effect: str) -> None:
    node = c.get("nodes", node_name, None)
    node["spec"].setdefault("taints", []).append({"key": key, "value": value, "effect": effect})
    c.update(node)


def placement(c: kubelab.Cluster, live_only: bool = True) -> dict[str, str]:
    return {p["spec"].get("nodeName"): p["metadata"]["name"] for p in c.list("pods")
            if not (live_only and p["metadata"].get("deletionTimestamp"))}


def test_one_pod_per_worker_and_none_on_the_tainted_control_plane():
    c = make()
    c.apply(daemonset())
    c.settle()
    pods = c.list("pods")
    assert sorted(p["spec"]["nodeName"] for p in pods) == WORKERS
    for pod in pods:
        node = pod["spec"]["nodeName"]
        assert pod["metadata"]["name"].startswith("fluentd-") and len(pod["metadata"]["name"]) == len("fluentd-") + 5
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms == {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                                   "values": [node]}]}]}
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
        keys = [(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]]
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
    created = [e["message"] for e in c.events() if e["reason"] == "SuccessfulCreate"]
    assert sorted(created) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)


def test_status_counts_ready_and_available_pods_like_kubectl_get_ds():
    c = make()
    c.apply(daemonset())
    c.settle()
    status = c.get("ds", "fluentd")["status"]
    assert status == {"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberAvailable": 2,
                      "numberMisscheduled": 0, "numberReady": 2, "observedGeneration": 1,
                      "updatedNumberScheduled": 2}


def test_pending_daemon_pods_count_as_scheduled_but_unavailable():
    c = make(kubelet=False)
    c.apply(daemonset())
    status = c.get("ds", "fluentd")["status"]
    assert status["currentNumberScheduled"] == 2 and status["numberReady"] == 0
    assert status["numberUnavailable"] == 2 and "numberAvailable" not in status


def test_tolerating_the_control_plane_taint_puts_a_pod_there_too():
    c = make()
    toleration = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
    c.apply(daemonset(tolerations=[toleration]))
    assert sorted(placement(c)) == ["kubelab-control-plane", *WORKERS]


def test_a_new_node_gets_a_pod_and_a_removed_node_loses_it():
    c = make()
    c.apply(daemonset())
    c.add_node("kubelab-worker3")
    assert sorted(placement(c)) == [*WORKERS, "kubelab-worker3"]
    c.remove_node("kubelab-worker3")
    c.settle()
    assert sorted(placement(c)) == WORKERS
    assert c.get("ds", "fluentd")["status"]["desiredNumberScheduled"] == 2


def test_node_selector_limits_the_daemon_and_relabelling_moves_it():
    c = make()
    c.apply(daemonset(nodeSelector={"disk": "ssd"}))
    assert placement(c) == {}
    node = c.get("nodes", "kubelab-worker", None)
    node["metadata"]["labels"]["disk"] = "ssd"
    c.update(node)
    assert list(placement(c)) == ["kubelab-worker"]
    node = c.get("nodes", "kubelab-worker", None)
    del node["metadata"]["labels"]["disk"]
    c.update(node)
    c.settle()
    assert placement(c) == {}
    assert "Deleted pod:" in [e["message"][:12] for e in c.events() if e["reason"] == "SuccessfulDelete"][0]


def test_a_no_execute_taint_evicts_the_daemon_but_no_schedule_lets_it_stay():
    c = make()
    c.apply(daemonset())
    c.settle()
    taint(c, "kubelab-worker", "dedicated", "db", "NoSchedule")
    c.settle()
    assert sorted(placement(c)) == WORKERS
    status = c.get("ds", "fluentd")["status"]
    assert status["desiredNumberScheduled"] == 1 and status["numberMisscheduled"] == 1
    taint(c, "kubelab-worker2", "dedicated", "db", "NoExecute")
    c.settle()
    assert sorted(placement(c)) == ["kubelab-worker"]


def test_rolling_update_replaces_one_pod_at_a_time_and_records_revisions():
    c = make()
    c.apply(daemonset())
    c.settle()
    first = set(placement(c).values())
    c.apply(daemonset(image="nginx:1.26"))
    live = [p for p in c.list("pods") if not p["metadata"].get("deletionTimestamp")]
    assert len([p for p in live if p["spec"]["containers"][0]["image"] == "nginx:1.25"]) == 1  # maxUnavailable 1
    c.settle()
    pods = c.list("pods")
    assert len(pods) == 2 and not first & {p["metadata"]["name"] for p in pods}
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.26"}
    revisions = sorted((r["revision"], r["metadata"]["name"]) for r in c.list("controllerrevisions"))
    assert [n for n, _ in revisions] == [1, 2]
    current = revisions[-1][1]
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {current.removeprefix("fluentd-")}
    assert c.get("ds", "fluentd")["status"]["updatedNumberScheduled"] == 2


def test_max_surge_starts_the_new_pod_before_the_old_one_goes():
    c = make()
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    c.apply(daemonset(strategy=strategy))
    c.settle()
    c.apply(daemonset(image="nginx:1.26", strategy=strategy))
    pods = c.list("pods")
    assert len(pods) == 3  # one node runs old and new side by side
    c.settle()
    assert {p["spec"]["containers"][0]["image"] for p in c.list("pods")} == {"nginx:1.26"}


def test_on_delete_keeps_old_pods_until_someone_deletes_them():
    c = make()
    strategy = {"type": "OnDelete"}
    c.apply(daemonset(strategy=strategy))
    c.settle()
    c.apply(daemonset(image="nginx:1.26", strategy=strategy))
    c.settle()
    assert {p["spec"]["containers"][0]["image"] for p in c.list("pods")} == {"nginx:1.25"}
    assert "updatedNumberScheduled" not in c.get("ds", "fluentd")["status"]  # omitted when 0, as Go does
    victim = placement(c)["kubelab-worker"]
    c.delete("pods", victim)
    c.settle()
    images = {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"] for p in c.list("pods")}
    assert images == {"kubelab-worker": "nginx:1.26", "kubelab-worker2": "nginx:1.25"}
    assert c.get("ds", "fluentd")["status"]["updatedNumberScheduled"] == 1


def test_required_node_affinity_chooses_nodes_and_each_pod_is_pinned_by_name():
    c = make()
    node = c.get("nodes", "kubelab-worker2", None)
    node["metadata"]["labels"]["zone"] = "b"
    c.update(node)
    required = {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]}
    c.apply(daemonset(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}))
    [pod] = c.list("pods")
    assert pod["spec"]["nodeName"] == "kubelab-worker2"
    assert pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                 "values": ["kubelab-worker2"]}]}]}
