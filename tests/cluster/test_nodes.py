"""Node objects, their heartbeats and the node methods of the Python API (add, remove, cordon, drain)."""

from __future__ import annotations

import pytest

import kubelab
from kubelab.cluster.nodeops import DrainError


def make(nodes: int = 3, **kw) -> kubelab.Cluster:
    return kubelab.Cluster(nodes=nodes, clock="stepped", seed=1, **kw)


def pod(name: str, **spec) -> dict:
    body = {"containers": [{"name": "app", "image": "nginx"}], **spec}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def node(c: kubelab.Cluster, name: str) -> dict:
    return c.get("nodes", name, None)


def test_three_node_cluster_has_a_tainted_control_plane_and_two_workers_like_kind():
    c = make(3)
    names = [n["metadata"]["name"] for n in c.list("nodes", None)]
    assert names == ["kubelab-control-plane", "kubelab-worker", "kubelab-worker2"]
    cp = node(c, "kubelab-control-plane")
    assert cp["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    worker = node(c, "kubelab-worker2")
    assert "taints" not in worker["spec"]
    assert worker["metadata"]["labels"] == {
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": "kubelab-worker2", "kubernetes.io/os": "linux"}
    assert worker["spec"]["podCIDR"] == "10.244.2.0/24" and worker["spec"]["podCIDRs"] == ["10.244.2.0/24"]
    assert worker["status"]["addresses"] == [{"address": "172.18.0.4", "type": "InternalIP"},
                                             {"address": "kubelab-worker2", "type": "Hostname"}]


def test_single_node_cluster_is_an_untainted_control_plane():
    c = make(1)
    (only,) = c.list("nodes", None)
    assert only["metadata"]["name"] == "kubelab-control-plane"
    assert "taints" not in only["spec"]
    assert "node-role.kubernetes.io/control-plane" in only["metadata"]["labels"]


def test_minikube_profile_has_one_node_named_minikube_with_minikube_labels():
    c = make(1, profile="minikube")
    (only,) = c.list("nodes", None)
    labels = only["metadata"]["labels"]
    assert only["metadata"]["name"] == "minikube"
    assert labels["minikube.k8s.io/name"] == "minikube" and labels["minikube.k8s.io/primary"] == "true"
    assert only["status"]["addresses"][0] == {"address": "192.168.49.2", "type": "InternalIP"}
    assert only["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("docker://")


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile must be one of"):
        make(1, profile="k3s")


def test_node_status_reads_like_a_kubelet_wrote_it():
    status = node(make(3), "kubelab-worker")["status"]
    assert status["capacity"]["cpu"] == "4" and status["capacity"]["pods"] == "110"
    assert status["capacity"]["memory"].endswith("Ki")  # MemTotal, never a round number
    assert status["allocatable"] == status["capacity"]
    assert status["capacity"]["hugepages-2Mi"] == "0"
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady")]
    assert status["conditions"][3]["message"] == "kubelet is posting ready status"
    assert status["nodeInfo"]["kubeletVersion"] == "v1.37.1"
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}


def test_kubelet_registration_events_are_recorded_for_each_node():
    c = make(1)
    reasons = [(e["reason"], e["source"]["component"]) for e in c.events()
               if e["involvedObject"]["name"] == "kubelab-control-plane"]
    assert reasons == [("Starting", "kubelet"), ("NodeHasSufficientMemory", "kubelet"),
                       ("NodeHasNoDiskPressure", "kubelet"), ("NodeHasSufficientPID", "kubelet"),
                       ("NodeAllocatableEnforced", "kubelet"), ("NodeReady", "kubelet"),
                       ("RegisteredNode", "node-controller")]


def test_each_node_lease_is_renewed_every_ten_seconds():
    c = make(3)
    lease = c.get("leases", "kubelab-worker", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "kubelab-worker" and lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    c.advance(25)
    renewed = c.get("leases", "kubelab-worker", "kube-node-lease")["spec"]["renewTime"]
    assert renewed == "2026-01-01T00:00:20.000000Z"


def test_unchanged_node_status_is_reposted_every_five_minutes():
    c = make(1)  # its node registered a minute before the clock's origin, while kube-system booted
    c.advance(239)
    ready = node(c, "kubelab-control-plane")["status"]["conditions"][3]
    assert ready["lastHeartbeatTime"] == "2025-12-31T23:59:00Z"
    c.advance(2)
    ready = node(c, "kubelab-control-plane")["status"]["conditions"][3]
    assert ready["lastHeartbeatTime"] == "2026-01-01T00:04:00Z"
    assert ready["lastTransitionTime"] == "2025-12-31T23:59:00Z"


def test_heartbeats_do_not_keep_settle_busy():
    c = make(3)
    assert c.settle() == 0


def test_add_node_joins_the_next_worker_with_its_own_size_labels_and_taints():
    c = make(3)
    added = c.add_node(cpu=8, memory="16Gi", labels={"disktype": "ssd"}, taints=["gpu=true:NoSchedule"])
    assert added["metadata"]["name"] == "kubelab-worker3"
    assert added["metadata"]["labels"]["disktype"] == "ssd"
    assert added["spec"]["taints"] == [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]
    assert added["spec"]["podCIDR"] == "10.244.3.0/24"
    assert added["status"]["capacity"]["cpu"] == "8"
    assert c.get("leases", "kubelab-worker3", "kube-node-lease")["spec"]["holderIdentity"] == "kubelab-worker3"


def test_remove_node_deletes_the_node_and_its_lease():
    c = make(3)
    c.remove_node("kubelab-worker2")
    assert [n["metadata"]["name"] for n in c.list("nodes", None)] == ["kubelab-control-plane", "kubelab-worker"]
    assert [lease["metadata"]["name"] for lease in c.list("leases", "kube-node-lease")] == [
        "kubelab-control-plane", "kubelab-worker"]
    with pytest.raises(kubelab.ApiError, match='nodes "kubelab-worker2" not found'):
        c.cordon("kubelab-worker2")


def test_cordon_sets_unschedulable_and_node_lifecycle_adds_the_unschedulable_taint():
    c = make(3)
    cordoned = c.cordon("kubelab-worker")
    assert cordoned["spec"]["unschedulable"] is True
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in cordoned["spec"]["taints"]
    c.advance(10)  # the kubelet notices at its next status sync
    assert any(e["reason"] == "NodeNotSchedulable" and e["message"] == "Node kubelab-worker status is now: "
               "NodeNotSchedulable" for e in c.events())
    back = c.uncordon("kubelab-worker")
    assert "unschedulable" not in back["spec"] and "taints" not in back["spec"]


def test_cordoned_node_gets_no_new_pods():
    c = make(3)
    c.cordon("kubelab-worker")
    for i in range(4):
        c.create(pod(f"web-{i}"))
    assert {p["spec"]["nodeName"] for p in c.list("pods")} == {"kubelab-worker2"}


def workload(kind: str, name: str, **spec) -> dict:
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template, **spec}}


def pod_of(c: kubelab.Cluster, app: str) -> dict:
    [found] = [p for p in c.list("pods", selector=f"app={app}") if not p["metadata"].get("deletionTimestamp")]
    return found


def test_drain_evicts_controlled_pods_and_leaves_daemonset_pods():
    c = make(2)  # one worker: every pod lands there
    c.create(workload("ReplicaSet", "web", replicas=1))
    c.create(workload("DaemonSet", "agent"))
    web, agent = pod_of(c, "web")["metadata"]["name"], pod_of(c, "agent")["metadata"]["name"]
    evicted = c.drain("kubelab-worker")
    assert evicted == [f"default/{web}"]
    gone = c.get("pods", web)
    assert gone["metadata"]["deletionTimestamp"]  # Terminating until its kubelet stops it
    assert {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"}.items() <= \
        next(x for x in gone["status"]["conditions"] if x["type"] == "DisruptionTarget").items()
    assert "deletionTimestamp" not in c.get("pods", agent)["metadata"]
    assert node(c, "kubelab-worker")["spec"]["unschedulable"] is True


def test_drain_refuses_pods_without_a_controller_unless_forced():
    c = make(2)
    c.create(pod("db"))
    with pytest.raises(DrainError) as refused:
        c.drain("kubelab-worker")
    assert str(refused.value) == ('unable to drain node "kubelab-worker" due to error: cannot delete cannot delete '
                                  "Pods that declare no controller (use --force to override): default/db, "
                                  "continuing command...")
    assert node(c, "kubelab-worker")["spec"]["unschedulable"] is True  # cordoned all the same
    assert c.drain("kubelab-worker", force=True) == ["default/db"]


def test_drain_without_ignore_daemonsets_names_the_daemonset_pods():
    c = make(2)
    c.create(workload("DaemonSet", "agent"))
    agent = pod_of(c, "agent")["metadata"]["name"]
    with pytest.raises(DrainError, match=r"cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to "
                                         rf"ignore\): default/{agent}"):
        c.drain("kubelab-worker", ignore_daemonsets=False)
