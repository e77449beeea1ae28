"""Controllers skip the pod writes that cannot concern them (no Service in the namespace, owners and
labels unchanged, no NoExecute taint, Events that own nothing): the cases that do concern them still act."""

from __future__ import annotations

import kubelab


def make() -> kubelab.Cluster:
    return kubelab.Cluster(nodes=3, clock="stepped", seed=1)


def pod(name: str, labels: dict | None = None, namespace: str = "default", **spec) -> dict:
    meta: dict = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}], **spec}}


def service(name: str, namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]}}


def replicaset(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}


def addresses(c: kubelab.Cluster, name: str, namespace: str = "default") -> list[str]:
    endpoints = c.get("endpoints", name, namespace)
    return sorted(a["targetRef"]["name"] for s in endpoints.get("subsets") or () for a in s.get("addresses") or ())


def slice_pods(c: kubelab.Cluster, name: str, namespace: str = "default") -> list[str]:
    (slice_,) = c.list("endpointslices", namespace, selector=f"kubernetes.io/service-name={name}")
    return sorted(e["targetRef"]["name"] for e in slice_.get("endpoints") or ())


def test_a_pod_that_gains_the_selected_label_later_joins_the_endpoints_and_leaves_when_deleted():
    c = make()
    c.create(service("web"))
    c.create(pod("late"))
    c.settle()
    assert addresses(c, "web") == []
    late = c.get("pods", "late")
    late["metadata"]["labels"] = {"app": "web"}
    c.update(late)
    c.settle()
    assert addresses(c, "web") == ["late"] and slice_pods(c, "web") == ["late"]
    c.delete("pods", "late", grace_period=0)
    c.settle()
    assert addresses(c, "web") == [] and slice_pods(c, "web") == []


def test_the_first_service_of_a_namespace_finds_the_pods_started_before_it_and_follows_new_ones():
    c = make()
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    c.create(pod("early", {"app": "api"}, namespace="team"))
    c.settle()
    c.create(service("api", namespace="team"))
    c.settle()
    assert addresses(c, "api", "team") == ["early"]
    c.create(pod("later", {"app": "api"}, namespace="team"))
    c.settle()
    assert addresses(c, "api", "team") == ["early", "later"]
    assert slice_pods(c, "api", "team") == ["early", "later"]


def test_an_event_with_an_owner_reference_is_collected_with_its_owner():
    c = make()
    owner = c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    c.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "owned.1", "ownerReferences": [ref]},
              "involvedObject": {"kind": "ConfigMap", "name": "owner", "namespace": "default"},
              "reason": "Test", "message": "owned", "type": "Normal"})
    c.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "free.1"},
              "involvedObject": {"kind": "ConfigMap", "name": "owner", "namespace": "default"},
              "reason": "Test", "message": "free", "type": "Normal"})
    c.delete("configmaps", "owner")
    c.settle()
    left = {e["metadata"]["name"] for e in c.list("events")}
    assert "owned.1" not in left and "free.1" in left


def test_an_object_that_gains_a_reference_to_a_deleted_owner_later_is_collected():
    c = make()
    gone = c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone"}})
    c.delete("configmaps", "gone")
    c.create(pod("bare"))
    c.settle()
    bare = c.get("pods", "bare")
    bare["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "gone",
                                            "uid": gone["metadata"]["uid"]}]
    c.update(bare)
    c.settle()
    assert [p["metadata"]["name"] for p in c.list("pods")] == []


def test_a_pod_bound_to_a_node_that_already_has_a_no_execute_taint_is_evicted():
    c = make()
    node = c.get("nodes", "kubelab-worker", None)
    node["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
    c.update(node)
    c.create(pod("placed", nodeName="kubelab-worker"))
    c.create(pod("elsewhere", nodeName="kubelab-worker2"))
    c.settle()
    reasons = [(e["reason"], e["message"]) for e in c.events() if e["reason"] == "TaintManagerEviction"]
    assert reasons == [("TaintManagerEviction", "Marking for deletion Pod default/placed")]
    assert [p["metadata"]["name"] for p in c.list("pods")] == ["elsewhere"]


def test_a_tolerating_pod_is_evicted_when_its_seconds_run_out_despite_its_status_writes():
    c = make()
    node = c.get("nodes", "kubelab-worker", None)
    node["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
    c.update(node)
    c.create(pod("patient", nodeName="kubelab-worker",
                 tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoExecute",
                               "tolerationSeconds": 30}]))
    c.advance(10)
    assert c.get("pods", "patient")["status"]["phase"] == "Running"  # the kubelet wrote its status meanwhile
    c.advance(25)
    c.settle()
    assert [p["metadata"]["name"] for p in c.list("pods")] == []


def test_a_replicaset_owned_pod_becoming_ready_counts_in_the_status_and_a_stray_relabelled_in_is_adopted():
    c = make()
    c.create(replicaset("web", 1))
    c.settle()
    assert c.get("rs", "web")["status"]["readyReplicas"] == 1
    c.create(pod("stray", {"app": "other"}))
    c.settle()
    stray = c.get("pods", "stray")
    stray["metadata"]["labels"] = {"app": "web"}
    c.update(stray)
    c.settle()
    live = [p for p in c.list("pods", selector="app=web") if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 1
    owners = {p["metadata"]["name"]: p["metadata"].get("ownerReferences") for p in c.list("pods")}
    assert "stray" not in owners or owners["stray"][0]["name"] == "web"


def test_a_template_label_change_recounts_fully_labeled_replicas_over_unchanged_pods():
    c = make()
    c.create(replicaset("web", 2))
    c.settle()
    assert c.get("rs", "web")["status"]["fullyLabeledReplicas"] == 2
    rs = c.get("rs", "web")
    rs["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    c.update(rs)
    c.settle()
    status = c.get("rs", "web")["status"]
    assert (status["replicas"], status.get("fullyLabeledReplicas", 0), status["readyReplicas"]) == (2, 0, 2)
