"""The pod listeners answer the usual pod writes (owners, labels, spec and finalizers kept) without their
full walk; writes that change what a controller reads still reach it: a workload pod stripped of its owner
is adopted back, a pod scheduled onto a NoExecute-tainted node is evicted, a pod that gains the Job
tracking finalizer without a Job loses it, a workload's pods turning Ready show in its status, a pod
handed to another controller or relabelled into a selector is seen by the workload."""

from __future__ import annotations

import podphase

import kubelab

TRACKING = "batch.kubernetes.io/job-tracking"


def make() -> kubelab.Cluster:
    c = kubelab.Cluster(nodes=3, clock="stepped", seed=1)
    podphase.install(c)
    return c


def template(app: str) -> dict:
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": app, "image": "nginx"}]}}


def statefulset(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"serviceName": "web", "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template("web")}}


def daemonset() -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")}}


def controllers(c: kubelab.Cluster, label: str) -> dict[str, str | None]:
    """Pod name → its controller's kind/name (None for an orphan), live pods only."""
    out: dict[str, str | None] = {}
    for p in c.list("pods", selector=label):
        if p["metadata"].get("deletionTimestamp"):
            continue
        ref = next((r for r in p["metadata"].get("ownerReferences") or () if r.get("controller")), None)
        out[p["metadata"]["name"]] = f"{ref['kind']}/{ref['name']}" if ref else None
    return out


def strip_owners(c: kubelab.Cluster, name: str) -> None:
    pod = c.get("pods", name)
    pod["metadata"].pop("ownerReferences")
    c.update(pod)


def test_a_statefulset_pod_stripped_of_its_owner_reference_is_adopted_back_and_its_readiness_counts():
    c = make()
    c.create(statefulset(2))
    c.settle()
    assert c.get("statefulsets", "web")["status"]["readyReplicas"] == 2
    strip_owners(c, "web-1")
    c.settle()
    assert controllers(c, "app=web") == {"web-0": "StatefulSet/web", "web-1": "StatefulSet/web"}
    assert c.get("statefulsets", "web")["status"]["readyReplicas"] == 2


def test_a_daemon_pod_stripped_of_its_owner_reference_is_adopted_back_not_duplicated():
    c = make()
    c.create(daemonset())
    c.settle()
    assert c.get("daemonsets", "agent")["status"]["numberReady"] == 2
    (first, _) = sorted(controllers(c, "app=agent"))
    strip_owners(c, first)
    c.settle()
    owned = controllers(c, "app=agent")
    assert len(owned) == 2 and set(owned.values()) == {"DaemonSet/agent"} and first in owned
    assert c.get("daemonsets", "agent")["status"]["numberReady"] == 2


def test_a_daemon_pod_handed_to_another_controller_is_replaced_by_the_daemonset():
    c = make()
    c.create(daemonset())
    c.settle()
    keeper = c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keeper"}})
    (first, _) = sorted(controllers(c, "app=agent"))
    pod = c.get("pods", first)
    pod["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "keeper",
                                           "uid": keeper["metadata"]["uid"], "controller": True}]
    c.update(pod)
    c.settle()
    owned = controllers(c, "app=agent")
    assert owned[first] == "ConfigMap/keeper"
    assert sorted(owned.values()) == ["ConfigMap/keeper", "DaemonSet/agent", "DaemonSet/agent"]


def test_a_bare_pod_relabelled_into_a_daemonset_selector_is_adopted_and_deleted_as_surplus():
    c = make()
    c.create(daemonset())
    c.settle()
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": {"app": "other"}},
              "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    c.settle()
    stray = c.get("pods", "stray")
    stray["metadata"]["labels"] = {"app": "agent"}
    c.update(stray)
    c.settle()
    assert "stray" not in controllers(c, "app=agent")
    deleted = [e["message"] for e in c.events() if e["reason"] == "SuccessfulDelete"]
    assert deleted == ["Deleted pod: stray"]


def test_a_tolerating_pod_scheduled_onto_no_execute_tainted_nodes_is_evicted_when_its_seconds_run_out():
    c = make()
    for name in ("kubelab-worker", "kubelab-worker2"):
        node = c.get("nodes", name, None)
        node["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
        c.update(node)
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "patient"},
              "spec": {"containers": [{"name": "app", "image": "nginx"}],
                       "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute",
                                        "tolerationSeconds": 30}]}})
    c.advance(10)
    pod = c.get("pods", "patient")
    assert pod["spec"]["nodeName"] in ("kubelab-worker", "kubelab-worker2")  # bound by the scheduler
    assert pod["status"]["phase"] == "Running"
    c.advance(25)
    c.settle()
    assert c.list("pods") == []
    messages = [e["message"] for e in c.events() if e["reason"] == "TaintManagerEviction"]
    assert messages == ["Marking for deletion Pod default/patient"]


def test_a_bare_pod_that_gains_the_job_tracking_finalizer_later_loses_it_again():
    c = make()
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare"},
              "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    c.settle()
    pod = c.get("pods", "bare")
    pod["metadata"]["finalizers"] = [TRACKING]
    c.update(pod)
    c.settle()
    assert not c.get("pods", "bare")["metadata"].get("finalizers")
